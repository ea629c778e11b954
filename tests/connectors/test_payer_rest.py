"""payer_rest against the conformance kit, on the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from canonical.decisions import DecisionOutcome
from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.payer_rest.sandbox_rules import Rule
from connectors.testing import ConnectorConformance, Scenario, with_values
from tests.connectors.connector_test_support import EXAMPLE_CASE, WRONG_SECRET_ENV, payer_config

RULES = [
    Rule(member_id_prefix="DENY", decide="deny", reason_code="MN01", reason_text="Not necessary"),
    Rule(member_id_prefix="INFO", decide="more_info", reason_code="DOC1", reason_text="Send notes"),
    Rule(procedure_code="70553", decide="pend", decide_after_inquiries=2),
    Rule(procedure_code="97110", decide="partial", approved_units=Decimal(6), reason_code="U1"),
]


class TestPayerRestConformance(ConnectorConformance):
    connector_name = "payer_rest"
    canary_fields = ("patient.family", "notes")
    scenarios = (
        Scenario("approve", EXAMPLE_CASE, DecisionOutcome.approved),
        Scenario(
            "deny",
            with_values(EXAMPLE_CASE, {"coverage.member_id": "DENY-1"}),
            DecisionOutcome.denied,
            reason_code="MN01",
        ),
        Scenario(
            "more_info",
            with_values(EXAMPLE_CASE, {"coverage.member_id": "INFO-1"}),
            DecisionOutcome.more_info_requested,
            reason_code="DOC1",
        ),
        Scenario(
            "partial",
            with_values(
                EXAMPLE_CASE,
                {"service_lines.0.procedure_code": "97110", "service_lines.0.units": 12},
            ),
            DecisionOutcome.partially_approved,
        ),
        Scenario(
            "pend_then_inquire_approves",
            with_values(EXAMPLE_CASE, {"service_lines.0.procedure_code": "70553"}),
            DecisionOutcome.pended,
            then=DecisionOutcome.approved,
        ),
    )

    @pytest.fixture(scope="class")
    def sandbox(self, sandbox_clients: list[SandboxClient]) -> Iterator[PayerRestSandbox]:
        with PayerRestSandbox(RULES, sandbox_clients, hang_seconds=3) as running:
            yield running

    @pytest.fixture
    def connector_config(self, sandbox: PayerRestSandbox) -> Mapping[str, Any]:
        return payer_config(sandbox.base_url)

    @pytest.fixture
    def bad_credentials_config(self, sandbox: PayerRestSandbox) -> Mapping[str, Any]:
        return payer_config(sandbox.base_url, client_secret=f"env:{WRONG_SECRET_ENV}")
