"""Refused input is kept with its error and can be replayed once the cause is fixed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from canonical.cases import CaseType
from gateway.intake import canonical_format
from gateway.replay import ReplayError, replay_message
from gateway.store import audit, cases
from gateway.store.ids import new_id
from gateway.store.records import NewMessage
from tests.gateway.api.support import EXAMPLES, Gateway


async def _kept(gateway: Gateway, body: bytes) -> str:
    message = NewMessage(
        id=new_id(),
        tenant="default",
        case_id=None,
        direction="inbound",
        format=canonical_format(CaseType.prior_authorization),
        body=body,
        error="/requesting_provider/npi: refused by a check since corrected",
        created_at=datetime.now(UTC),
    )
    async with gateway.runtime.store.begin() as conn:
        await cases.add_message(conn, gateway.runtime.store.cipher, message)
    return message.id


async def test_replay_opens_one_case_however_often_it_runs(gateway: Gateway) -> None:
    message_id = await _kept(gateway, (EXAMPLES / "prior-authorization.json").read_bytes())
    first = await replay_message(gateway.runtime, message_id, "ops-user")
    again = await replay_message(gateway.runtime, message_id, "ops-user")
    assert (first.kind, again.kind) == ("accepted", "replayed")
    assert first.case_id == again.case_id
    case = await gateway.client.get(f"/v1/cases/{first.case_id}", headers=gateway.auth())
    assert case.json()["status"] == "draft"
    async with gateway.runtime.store.connect() as conn:
        kept = await cases.get_message(conn, gateway.runtime.store.cipher, message_id)
        entries = await audit.list_audit(conn, limit=100)
    assert kept is not None and kept.replayed_at is not None
    replays = [e for e in entries if e.detail.get("event") == "message.replay"]
    assert [e.detail["case_id"] for e in replays] == [first.case_id, first.case_id]


async def test_input_that_is_still_wrong_reports_where(gateway: Gateway) -> None:
    bad = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    bad["requesting_provider"]["npi"] = "1260181594"
    refused = await gateway.client.post(
        "/v1/prior-authorizations",
        json=bad,
        headers={**gateway.auth(), "Idempotency-Key": "r-1"},
    )
    assert refused.status_code == 422
    async with gateway.runtime.store.connect() as conn:
        [kept] = await cases.list_messages(
            conn, gateway.runtime.store.cipher, errors_only=True, limit=5
        )
    assert kept.format == "canonical-json/prior_authorization"
    outcome = await replay_message(gateway.runtime, kept.id, "ops-user")
    assert outcome.kind == "still_invalid"
    assert [pointer for pointer, _ in outcome.errors] == ["/requesting_provider/npi"]


async def test_only_kept_refused_input_replays(gateway: Gateway) -> None:
    with pytest.raises(ReplayError, match="no kept, refused inbound message"):
        await replay_message(gateway.runtime, "01NOSUCHMESSAGE0000000000", "ops-user")
