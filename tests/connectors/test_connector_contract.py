"""ConnectorRequest refuses what would break an HTTP request, with a precise message."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.contract import ConnectorConfig, ConnectorRequest, ConnectorResponse


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


def test_reprs_leave_out_phi() -> None:
    request = _request(payload={"patient": {"family": "Zq-Testpatient"}})
    response = ConnectorResponse(
        decision=None,
        wire_format="payer_rest.json/v1",
        wire_request=b"Zq-Testpatient",
        wire_response=b"Zq-Testpatient",
        payer_reference="PR1",
    )
    assert "Zq-Testpatient" not in repr(request) and "case-1" in repr(request)
    assert "Zq-Testpatient" not in repr(response) and "PR1" in repr(response)
