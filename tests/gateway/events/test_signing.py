"""Standard Webhooks signatures: the published test vector, rotation, tampering, stale stamps."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.events.signing import (
    WebhookVerificationError,
    new_secret,
    sign,
    signed_headers,
    verify,
)

# The example of the Standard Webhooks specification (standard-webhooks/standard-webhooks).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_example_signs_to_its_published_signature() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    headers = signed_headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10) == SPEC_ID


def test_during_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = signed_headers([new, old], "evt_1", 1_700_000_000, b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        verify(secret, headers, b"{}", now=1_700_000_000)
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(new_secret(), headers, b"{}", now=1_700_000_000)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": b'{"test": 2432232315}'}, "no signature"),
        ({"webhook-id": "msg_other"}, "no signature"),
        ({"webhook-timestamp": str(SPEC_TIMESTAMP + 1)}, "no signature"),
        ({"webhook-timestamp": "yesterday"}, "not an integer"),
        ({"webhook-signature": ""}, "missing"),
    ],
)
def test_a_changed_message_fails(change: dict[str, object], message: str) -> None:
    headers = signed_headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    body = change.pop("body", SPEC_BODY)
    headers.update({k: str(v) for k, v in change.items()})
    assert isinstance(body, bytes)
    with pytest.raises(WebhookVerificationError, match=message):
        verify(SPEC_SECRET, headers, body, now=SPEC_TIMESTAMP)


def test_a_stale_or_future_timestamp_fails() -> None:
    headers = signed_headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    for now in (SPEC_TIMESTAMP + 301, SPEC_TIMESTAMP - 301):
        with pytest.raises(WebhookVerificationError, match="tolerance"):
            verify(SPEC_SECRET, headers, SPEC_BODY, now=now)


@given(
    body=st.binary(max_size=2048),
    message_id=st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1),
)
def test_any_body_round_trips(body: bytes, message_id: str) -> None:
    headers = signed_headers([SPEC_SECRET], message_id, SPEC_TIMESTAMP, body)
    assert verify(SPEC_SECRET, headers, body, now=SPEC_TIMESTAMP) == message_id


def test_secrets_are_fresh_and_well_formed() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(s.startswith("whsec_") and len(s) == 6 + 44 for s in secrets)
