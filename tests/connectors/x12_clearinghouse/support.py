"""Rules, scenarios and configurations shared by the clearinghouse connector tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from canonical.decisions import DecisionOutcome
from connectors.secrets import SecretRef
from connectors.testing import Scenario, with_values
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from tests.connectors.connector_test_support import (
    ROOT,
    SECRET_ENV,
    payer_rules,
    prior_auth_scenarios,
)

USER = "casegate"
SENDER_ID = "CASEGATE"
RULES = payer_rules(deny_reason="MN", info_reason="DC")
ELIGIBILITY_CHECK: dict[str, Any] = json.loads(
    (ROOT / "examples" / "eligibility-check.json").read_text()
)
CLAIM_STATUS: dict[str, Any] = json.loads((ROOT / "examples" / "claim-status.json").read_text())
SCENARIOS = (
    *prior_auth_scenarios(deny_reason="MN", info_reason=None),
    Scenario(
        "eligibility_active",
        with_values(ELIGIBILITY_CHECK, {"service_type_codes": ["30", "2"]}),
        DecisionOutcome.approved,
        case_type="eligibility_check",
        operation="eligibility.check",
    ),
    Scenario(
        "eligibility_inactive",
        with_values(ELIGIBILITY_CHECK, {"coverage.member_id": "INACTIVE-9"}),
        DecisionOutcome.denied,
        case_type="eligibility_check",
        operation="eligibility.check",
        reason_code="coverage-inactive",
    ),
    Scenario(
        "claim_paid",
        CLAIM_STATUS,
        DecisionOutcome.approved,
        case_type="claim_status",
        operation="claim_status.inquire",
        reason_code="F1",
    ),
    Scenario(
        "claim_denied",
        with_values(CLAIM_STATUS, {"claim.patient_account_number": "DENIED-4471"}),
        DecisionOutcome.denied,
        case_type="claim_status",
        operation="claim_status.inquire",
        reason_code="50",
    ),
)


def start_clearinghouse(root: Path, **options: Any) -> X12ClearinghouseSandbox:
    options.setdefault("hang_seconds", 3.0)
    sandbox = X12ClearinghouseSandbox(
        root, RULES, users={USER: SecretRef(f"env:{SECRET_ENV}")}, **options
    )
    sandbox.start()
    return sandbox


def parties() -> dict[str, Any]:
    return {"sender": {"id": SENDER_ID}, "receiver": {"id": "CLEARINGHOUSE"}}


def realtime_config(
    sandbox: X12ClearinghouseSandbox, password_env: str = SECRET_ENV
) -> dict[str, Any]:
    return parties() | {
        "timeout_seconds": 5,
        "realtime": {
            "url": sandbox.base_url,
            "auth": {
                "method": "client_secret",
                "username": USER,
                "password": f"env:{password_env}",
            },
        },
    }


def sftp_config(sandbox: X12ClearinghouseSandbox, password_env: str = SECRET_ENV) -> dict[str, Any]:
    return parties() | {
        "timeout_seconds": 5,
        "batch": {
            "sftp": {
                "host": "127.0.0.1",
                "port": sandbox.sftp_port,
                "username": USER,
                "password": f"env:{password_env}",
                "host_key": sandbox.public_host_key,
            },
            "poll_seconds": 0.02,
        },
    }


def directory_config(root: Path) -> dict[str, Any]:
    return parties() | {
        "timeout_seconds": 5,
        "batch": {"directory": str(root), "poll_seconds": 0.02},
    }
