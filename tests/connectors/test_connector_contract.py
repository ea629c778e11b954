"""ConnectorRequest refuses what would break an HTTP request, with a precise message."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.contract import ConnectorConfig, ConnectorRequest


def _request(**changes: Any) -> ConnectorRequest:
    fields: dict[str, Any] = {
        "operation": "prior_auth.submit",
        "idempotency_key": "case-1:submit:1",
        "case_id": "case-1",
        "case_type": "prior_authorization",
        "payload": {},
    }
    return ConnectorRequest(**(fields | changes))


def test_a_plain_request_is_accepted_with_empty_headers() -> None:
    request = _request()
    assert request.headers == {} and request.payer_reference is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"operation": ""}, "operation"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 256}, "idempotency_key"),
        ({"idempotency_key": "line\nbreak"}, "idempotency_key"),
        ({"idempotency_key": "caf\u00e9"}, "ASCII"),
        ({"case_id": ""}, "case_id"),
        ({"payer_reference": ""}, "payer_reference"),
        ({"headers": {"bad name": "x"}}, "HTTP token"),
        ({"headers": {"traceparent": "00-ab\r\nX-Injected: 1"}}, "traceparent"),
    ],
)
def test_malformed_requests_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _request(**changes)


def test_config_base_refuses_unknown_keys_and_is_frozen() -> None:
    with pytest.raises(ValidationError):
        ConnectorConfig.model_validate({"timeout_seconds": 5, "timeout": 5})
    config = ConnectorConfig()
    assert config.timeout_seconds == 10
    with pytest.raises(ValidationError):
        config.timeout_seconds = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ConnectorConfig(timeout_seconds=0)
