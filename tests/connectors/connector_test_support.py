"""Constants and helpers shared by the connector tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from canonical.decisions import DecisionOutcome
from connectors.contract import ConnectorRequest
from connectors.payer_rest.sandbox_rules import Rule
from connectors.testing import Scenario, with_values

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CASE: dict[str, Any] = json.loads(
    (ROOT / "examples" / "prior-authorization.json").read_text()
)
SECRET_ENV = "CASEGATE_TEST_PAYER_SECRET"
WRONG_SECRET_ENV = "CASEGATE_TEST_WRONG_SECRET"
SECRET_VALUE = "sandbox-secret-7f3a9c"
CLIENT_ID = "casegate-test"
RSA_CLIENT_ID = "casegate-rsa"
EC_CLIENT_ID = "casegate-ec"


def payer_config(base_url: str, **auth: Any) -> dict[str, Any]:
    """A payer_rest configuration for a sandbox, with client-secret auth unless overridden."""
    return {
        "base_url": base_url,
        "timeout_seconds": 5,
        "auth": {
            "token_url": f"{base_url}/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": f"env:{SECRET_ENV}",
        }
        | auth,
    }


def payer_rules(deny_reason: str = "MN01", info_reason: str = "DOC1") -> list[Rule]:
    """What every fake payer decides by in the tests: deny and ask for more by member id, pend
    an MRI until inquired twice, part-approve physical therapy."""
    return [
        Rule(
            member_id_prefix="DENY",
            decide="deny",
            reason_code=deny_reason,
            reason_text="Not necessary",
        ),
        Rule(
            member_id_prefix="INFO",
            decide="more_info",
            reason_code=info_reason,
            reason_text="Send notes",
        ),
        Rule(procedure_code="70553", decide="pend", decide_after_inquiries=2),
        Rule(procedure_code="97110", decide="partial", approved_units=Decimal(6), reason_code="U1"),
    ]


def prior_auth_scenarios(
    deny_reason: str = "MN01", info_reason: str | None = "DOC1"
) -> tuple[Scenario, ...]:
    """A prior authorization through each of `payer_rules`' outcomes (the reasons as the
    connector reports them, None where it reports none)."""
    return (
        Scenario("approve", EXAMPLE_CASE, DecisionOutcome.approved),
        Scenario(
            "deny",
            with_values(EXAMPLE_CASE, {"coverage.member_id": "DENY-1"}),
            DecisionOutcome.denied,
            reason_code=deny_reason,
        ),
        Scenario(
            "more_info",
            with_values(EXAMPLE_CASE, {"coverage.member_id": "INFO-1"}),
            DecisionOutcome.more_info_requested,
            reason_code=info_reason,
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


def prior_auth_request(payload: Any = EXAMPLE_CASE, **changes: Any) -> ConnectorRequest:
    """A prior authorization submission under fresh ids; `changes` replace any of its fields."""
    fields: dict[str, Any] = {
        "operation": "prior_auth.submit",
        "idempotency_key": f"key-{uuid.uuid4().hex}",
        "case_id": f"case-{uuid.uuid4().hex[:12]}",
        "case_type": "prior_authorization",
        "payload": payload,
    }
    return ConnectorRequest(**(fields | changes))
