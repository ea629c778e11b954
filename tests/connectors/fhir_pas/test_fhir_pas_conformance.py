"""fhir_pas against the conformance kit, on the in-process PAS sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey

from canonical.decisions import DecisionOutcome
from connectors.fhir_pas.sandbox import FhirPasSandbox
from connectors.fhir_pas.sandbox_auth import SmartClient
from connectors.testing import ConnectorConformance, Scenario, with_values
from tests.connectors.connector_test_support import (
    EXAMPLE_CASE,
    payer_rules,
    prior_auth_scenarios,
)
from tests.connectors.fhir_pas.support import ELIGIBILITY_CASE, pas_config

RULES = payer_rules()


class TestFhirPasConformance(ConnectorConformance):
    connector_name = "fhir_pas"
    canary_fields = ("patient.family", "notes")
    scenarios = (
        *prior_auth_scenarios(),
        Scenario(
            "pend_then_cancel",
            with_values(EXAMPLE_CASE, {"service_lines.0.procedure_code": "70553"}),
            DecisionOutcome.pended,
            then=DecisionOutcome.cancelled,
            follow_up="prior_auth.cancel",
            max_follow_ups=1,
        ),
        Scenario(
            "eligibility_in_force",
            ELIGIBILITY_CASE,
            DecisionOutcome.approved,
            case_type="eligibility_check",
            operation="eligibility.check",
        ),
        Scenario(
            "eligibility_inactive",
            with_values(ELIGIBILITY_CASE, {"coverage.member_id": "INACTIVE-7"}),
            DecisionOutcome.denied,
            case_type="eligibility_check",
            operation="eligibility.check",
            reason_code="coverage-inactive",
        ),
    )

    @pytest.fixture(scope="class")
    def sandbox(self, smart_clients: list[SmartClient]) -> Iterator[FhirPasSandbox]:
        with FhirPasSandbox(RULES, smart_clients, hang_seconds=3) as running:
            yield running

    @pytest.fixture
    def connector_config(
        self,
        sandbox: FhirPasSandbox,
        signing_keys: dict[str, tuple[Path, dict[str, Any]]],
    ) -> Mapping[str, Any]:
        pem, public = signing_keys["ES384"]
        return pas_config(sandbox.base_url, sandbox.token_url, pem, public["kid"])

    @pytest.fixture
    def bad_credentials_config(
        self, sandbox: FhirPasSandbox, tmp_path: Path, signing_keys: dict[str, Any]
    ) -> Mapping[str, Any]:
        # The right key id, but a key the client never published.
        impostor = tmp_path / "impostor.pem"
        impostor.write_bytes(ECKey.generate_key("P-384").as_pem(private=True))
        kid = signing_keys["ES384"][1]["kid"]
        return pas_config(sandbox.base_url, sandbox.token_url, impostor, kid)
