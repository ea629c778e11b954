"""Constants and helpers shared by the connector tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
