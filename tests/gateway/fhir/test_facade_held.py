"""A bundle whose data fails casegate's own checks is held for a person, not sent to dead-letter:
corrected through its work item, it reaches the payer sandbox and is decided. Documents can be
added while it waits, and a refused bundle replays in its sender's namespace."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.auth.keys import dev_client
from gateway.fhir.facade_intake import INQUIRE_FORMAT, SUBMIT_FORMAT, sender_of, sent_by
from gateway.replay import ReplayError, replay_message
from gateway.store import cases, outbox
from gateway.store.ids import new_id
from gateway.store.records import NewMessage
from tests.gateway.api.support import dev_token
from tests.gateway.fhir.facade_fixtures import Facade, facade, payer
from tests.gateway.fhir.facade_support import (
    FHIR,
    REQUESTER_NPI,
    ehr_bundle,
    resource,
    review_actions,
)

FIXTURES = (facade, payer)  # the running gateway and payer sandbox these tests use
NINE_DIGITS = "926318475"  # a canary: it must not appear in any work item


def _nine_digit_npi(claim_number: str) -> dict[str, Any]:
    bundle = ehr_bundle(claim_number)
    provider = bundle["entry"][0]["resource"]["provider"]["reference"]
    [requester] = [e["resource"] for e in bundle["entry"] if e["fullUrl"] == provider]
    requester["identifier"][0]["value"] = NINE_DIGITS
    return bundle


def _staff(facade: Facade) -> dict[str, str]:
    token = dev_token(facade.runtime.settings, ("cases:read", "cases:write"))
    return {"Authorization": f"Bearer {token}"}


async def _held(facade: Facade, claim_number: str) -> tuple[str, dict[str, Any]]:
    """Submit a bundle with a 9-digit NPI; (case id, its one work item)."""
    answer = await facade.submit(_nine_digit_npi(claim_number))
    assert answer.status_code == 200, answer.text
    response = answer.json()
    assert review_actions(response) == ["A4"]
    [warning] = resource(response, "OperationOutcome")["issue"]
    assert warning["severity"] == "warning"
    case_id = str(response["identifier"]["value"])
    page = (await facade.api.get("/v1/work-items", headers=_staff(facade))).json()
    [item] = [item for item in page["items"] if item["case_id"] == case_id]
    return case_id, item


async def test_corrected_through_its_work_item_the_case_is_sent_and_decided(
    facade: Facade,
) -> None:
    case_id, item = await _held(facade, "HOLD-1")
    case = await facade.case(case_id)
    assert case["status"] == "more_info_requested"
    assert item["kind"] == "missing_fields"
    assert item["detail"]["missing"] == ["field:requesting_provider.npi"]
    assert NINE_DIGITS not in json.dumps(item)
    async with facade.runtime.store.connect() as conn:
        stats = await outbox.queue_stats(conn)
    assert stats.pending == 0 and stats.dead == 0  # nothing goes out before a person fixes it
    assert facade.payer.effects(f"{case_id}:prior_auth.submit") == 0

    wrong = {**case["payload"]["requesting_provider"], "npi": "1260181594"}
    refused = await facade.api.post(
        f"/v1/work-items/{item['id']}/resolve",
        json={"fields": {"requesting_provider": wrong}},
        headers=_staff(facade),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/fields/requesting_provider/npi"

    corrected = {**case["payload"]["requesting_provider"], "npi": REQUESTER_NPI}
    resolved = await facade.api.post(
        f"/v1/work-items/{item['id']}/resolve",
        json={"fields": {"requesting_provider": corrected}},
        headers=_staff(facade),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["sent"] is True

    deadline = time.monotonic() + 30
    while (status := (await facade.case(case_id))["status"]) != "approved":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.05)
    assert facade.payer.effects(f"{case_id}:prior_auth.submit") == 1
    inquiry = await facade.api.post("/fhir/Claim/$inquire", json=ehr_bundle("HOLD-1"), headers=FHIR)
    [returned] = inquiry.json()["parameter"]
    assert review_actions(returned["resource"]) == ["A1"]


async def test_a_document_added_while_held_is_kept_without_a_500(facade: Facade) -> None:
    case_id, _ = await _held(facade, "HOLD-2")
    upload = {
        "kind": "09",
        "media_type": "application/pdf",
        "title": "Progress note",
        "data": base64.b64encode(b"%PDF-1.7 note").decode(),
    }
    added = await facade.api.post(
        f"/v1/cases/{case_id}/attachments", json=upload, headers=_staff(facade)
    )
    assert added.status_code == 201, added.text
    case = await facade.case(case_id)
    assert case["status"] == "more_info_requested"
    assert [a["sha256"] for a in case["payload"]["attachments"]][-1] == added.json()["sha256"]
    assert case["payload"]["requesting_provider"]["npi"] == NINE_DIGITS  # left for the person
    bad = await facade.api.post(
        f"/v1/cases/{case_id}/attachments", json={**upload, "kind": ""}, headers=_staff(facade)
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["pointer"] == "/kind"


async def _refused_sender(facade: Facade) -> str:
    """Have the facade refuse a bundle for real; the client it recorded with it."""
    bundle = ehr_bundle("REFUSED")
    bundle["entry"][0]["resource"]["use"] = "claim"
    answer = await facade.submit(bundle)
    assert answer.status_code == 422
    async with facade.runtime.store.connect() as conn:
        [kept] = await cases.list_messages(
            conn, facade.runtime.store.cipher, errors_only=True, limit=5
        )
    wire_format, client_id = sender_of(kept.format)
    assert wire_format == SUBMIT_FORMAT
    assert client_id == dev_client(facade.runtime.settings.home).client_id
    outcome = await replay_message(facade.runtime, kept.id, "ops-user")
    assert outcome.kind == "still_invalid"
    assert [where for where, _ in outcome.errors] == ["Bundle.entry[0].resource.use"]
    return client_id


async def _kept(facade: Facade, body: bytes, stored_format: str) -> str:
    message = NewMessage(
        id=new_id(),
        tenant="default",
        case_id=None,
        direction="inbound",
        format=stored_format,
        body=body,
        error="Bundle.entry[0].resource: refused by a check since corrected",
        created_at=datetime.now(UTC),
    )
    async with facade.runtime.store.begin() as conn:
        await cases.add_message(conn, facade.runtime.store.cipher, message)
    return message.id


async def test_a_refused_bundle_replays_as_its_ehr_sent_it(facade: Facade) -> None:
    client_id = await _refused_sender(facade)
    body = json.dumps(ehr_bundle("REPLAYED")).encode()
    message_id = await _kept(facade, body, sent_by(SUBMIT_FORMAT, client_id))
    first = await replay_message(facade.runtime, message_id, "ops-user")
    again = await replay_message(facade.runtime, message_id, "ops-user")
    assert (first.kind, again.kind) == ("accepted", "replayed")
    assert first.case_id == again.case_id
    # The case is the EHR's own: its inquiry finds it, and its resend is the same case.
    inquiry = await facade.api.post(
        "/fhir/Claim/$inquire", json=ehr_bundle("REPLAYED"), headers=FHIR
    )
    [returned] = inquiry.json()["parameter"]
    assert returned["resource"]["identifier"]["value"] == first.case_id
    resent = await facade.submit(ehr_bundle("REPLAYED"))
    assert resent.json()["identifier"]["value"] == first.case_id


@pytest.mark.parametrize(
    ("stored_format", "reason"),
    [
        (sent_by(INQUIRE_FORMAT, "ehr"), "change nothing"),
        (SUBMIT_FORMAT, "sender was not recorded"),
    ],
)
async def test_what_cannot_be_replayed_says_why(
    facade: Facade, stored_format: str, reason: str
) -> None:
    message_id = await _kept(facade, json.dumps(ehr_bundle("X")).encode(), stored_format)
    with pytest.raises(ReplayError, match=reason):
        await replay_message(facade.runtime, message_id, "ops-user")
