"""The ERP connector against the conformance kit, on both shipped profiles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from connectors.erp.sandbox import ErpSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.testing import ConnectorConformance, Scenario
from tests.connectors.connector_test_support import WRONG_SECRET_ENV
from tests.connectors.erp.erp_support import approved_invoice, erp_config, event

SCENARIOS = (
    # First: one ERP document, so the kit's one-effect-per-key checks count one posting.
    Scenario(
        "hold_requisition_while_pended",
        event("authorization.pended"),
        None,
        case_type="prior_authorization",
        operation="erp.post",
    ),
    Scenario(
        "approval_releases_and_schedules",
        event("authorization.approved"),
        None,
        operation="erp.post",
    ),
    Scenario(
        "approved_invoice_posts_to_ap",
        approved_invoice(),
        None,
        case_type="invoice_exception",
        operation="erp.post",
    ),
    Scenario(
        "purchase_order_lookup",
        {"purchase_order_number": "PO-1002"},
        None,
        case_type="invoice_exception",
        operation="erp.lookup",
    ),
)


@pytest.fixture(scope="module")
def erp(sandbox_clients: list[SandboxClient]) -> Iterator[ErpSandbox]:
    with ErpSandbox(sandbox_clients, hang_seconds=3) as running:
        yield running


class _ErpConformance(ConnectorConformance):
    connector_name = "erp"
    scenarios = SCENARIOS
    profile: ClassVar[str]

    @pytest.fixture
    def sandbox(self, erp: ErpSandbox) -> ErpSandbox:
        return erp

    def _url(self, sandbox: ErpSandbox) -> str:
        return sandbox.odata_url() if self.profile == "odata" else sandbox.base_url

    @pytest.fixture
    def connector_config(self, sandbox: ErpSandbox) -> Mapping[str, Any]:
        return erp_config(self._url(sandbox), self.profile)

    @pytest.fixture
    def bad_credentials_config(self, sandbox: ErpSandbox) -> Mapping[str, Any]:
        return erp_config(self._url(sandbox), self.profile, client_secret=f"env:{WRONG_SECRET_ENV}")


class TestErpODataConformance(_ErpConformance):
    profile = "odata"


class TestErpRestConformance(_ErpConformance):
    profile = "rest"
