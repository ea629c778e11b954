"""payer_rest against the conformance kit, on the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from connectors.payer_rest.sandbox import PayerRestSandbox
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.testing import ConnectorConformance
from tests.connectors.connector_test_support import (
    WRONG_SECRET_ENV,
    payer_config,
    payer_rules,
    prior_auth_scenarios,
)

RULES = payer_rules()


class TestPayerRestConformance(ConnectorConformance):
    connector_name = "payer_rest"
    canary_fields = ("patient.family", "notes")
    scenarios = prior_auth_scenarios()

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
