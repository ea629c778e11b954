"""The connector conformance kit, shipped with casegate for connector packages to use.

    from connectors.testing import ConnectorConformance, Scenario

    class TestMyConnector(ConnectorConformance):
        connector_name = "my_connector"
        scenarios = [Scenario("approve", payload, DecisionOutcome.approved)]
        ...  # plus the sandbox, connector_config and bad_credentials_config fixtures

Importing it needs pytest and pytest-asyncio; nothing at run time imports it.
"""

from connectors.testing.conformance import ConnectorConformance, error_text
from connectors.testing.scenarios import Scenario, with_values

__all__ = ["ConnectorConformance", "Scenario", "error_text", "with_values"]
