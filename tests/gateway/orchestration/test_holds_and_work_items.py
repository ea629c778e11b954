"""Cases the policy packs hold wait for a person as work items; resolving one with what was
missing resumes the case, which then goes to the payer. Every step is in the audit trail."""

from __future__ import annotations

import base64

import sqlalchemy as sa

from gateway.store.schema import audit_log
from tests.gateway.orchestration.conftest import LiveGateway, example, post_case

INPATIENT_KNEE = {"procedure_code": "27447", "place_of_service": "21"}


def _document(kind: str) -> dict[str, str]:
    content = base64.b64encode(f"%PDF-1.4 {kind} document".encode()).decode()
    return {
        "kind": kind,
        "media_type": "application/pdf",
        "title": f"Report {kind}",
        "data": content,
    }


async def _items(live: LiveGateway, **params: str) -> list[dict[str, object]]:
    response = await live.api.get("/v1/work-items", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _audit_details(live: LiveGateway, case_id: str) -> list[dict[str, object]]:
    async with live.runtime.store.connect() as conn:
        rows = await conn.execute(
            sa.select(audit_log.c.action, audit_log.c.detail)
            .where(audit_log.c.case_id == case_id)
            .order_by(audit_log.c.id)
        )
        return [{"action": action, **detail} for action, detail in rows]


async def test_a_case_missing_documents_is_held_then_resolved_and_sent(live: LiveGateway) -> None:
    accepted = await post_case(live.api, "held-1", example(**INPATIENT_KNEE))
    case_id = str(accepted["id"])
    assert accepted["status"] == "more_info_requested"

    [item] = await _items(live, queue="acme-intake")
    assert (item["case_id"], item["kind"], item["status"]) == (case_id, "missing_documents", "open")
    assert item["detail"]["missing"] == ["attachment:09", "attachment:RR"]  # type: ignore[index]
    [created] = await live.events(case_id)
    assert created["data"]["held"] == ["missing_documents"]
    assert live.payer.effects(f"{case_id}:prior_auth.submit") == 0

    decision = (await live.api.get(f"/v1/cases/{case_id}/decision")).json()
    assert decision["pack_id"] == "acmehp"
    assert "ACME-DOC-JOINT-INPATIENT" in decision["fired_rules"]
    assert any("ACME-DOC-JOINT-INPATIENT" in line for line in decision["explanation"])

    claimed = await live.api.post(f"/v1/work-items/{item['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "claimed"
    mine = await _items(live, assignee=claimed.json()["assignee"])
    assert [i["id"] for i in mine] == [item["id"]]

    # Only one of the two documents: the case stays held, for the one still missing.
    partial = await live.api.post(
        f"/v1/work-items/{item['id']}/resolve", json={"attachments": [_document("09")]}
    )
    assert partial.status_code == 200, partial.text
    assert (partial.json()["sent"], partial.json()["still_held"]) == (False, ["missing_documents"])
    [again] = await _items(live, queue="acme-intake")
    assert again["id"] != item["id"]
    assert again["detail"]["missing"] == ["attachment:RR"]  # type: ignore[index]

    resolved = await live.api.post(
        f"/v1/work-items/{again['id']}/resolve", json={"attachments": [_document("RR")]}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["sent"] is True
    await live.wait_for(case_id, {"approved"})
    assert live.payer.effects(f"{case_id}:prior_auth.submit") == 1
    assert await _items(live, queue="acme-intake") == []
    types = [e["type"] for e in await live.events(case_id)]
    assert types[:4] == ["case.created", "case.still_held", "case.resumed", "case.submitted"]

    changes = [d for d in await _audit_details(live, case_id) if d.get("work_item")]
    assert [(d["action"], d.get("claimed"), d.get("resolved")) for d in changes] == [
        ("U", True, None),
        ("U", None, True),
        ("U", None, True),
    ]
    assert changes[1]["documents"] == ["09"]
    assert any(d.get("event") == "case.decision.read" for d in await _audit_details(live, case_id))


async def test_a_missing_field_is_corrected_through_the_work_item(live: LiveGateway) -> None:
    body = example(procedure_code="27447")
    del body["rendering_provider"]
    case_id = str((await post_case(live.api, "field-1", body))["id"])
    [item] = await _items(live, queue="acme-intake")
    assert item["kind"] == "missing_fields"

    bad = await live.api.post(
        f"/v1/work-items/{item['id']}/resolve",
        json={"fields": {"rendering_provider": {"npi": "123", "name": "Sam Surgeon, MD"}}},
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/fields/rendering_provider/npi"]
    unknown = await live.api.post(
        f"/v1/work-items/{item['id']}/resolve", json={"fields": {"surgeon": "x"}}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/fields/surgeon"

    provider = {"npi": "1830166132", "name": "Sam Surgeon, MD"}
    fixed = await live.api.post(
        f"/v1/work-items/{item['id']}/resolve", json={"fields": {"rendering_provider": provider}}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["sent"] is True
    await live.wait_for(case_id, {"approved"})
    twice = await live.api.post(f"/v1/work-items/{item['id']}/resolve", json={})
    assert twice.status_code == 409


async def test_work_item_errors_are_problems(live: LiveGateway) -> None:
    missing = await live.api.post("/v1/work-items/01JZZZZZZZZZZZZZZZZZZZZZZZ/claim")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    bad_filter = await live.api.get("/v1/work-items", params={"sla_breach": "maybe"})
    assert bad_filter.status_code == 400
    case_id = str((await post_case(live.api, "plain", example()))["id"])
    await live.wait_for(case_id, {"approved"})
    decision = (await live.api.get(f"/v1/cases/{case_id}/decision")).json()
    assert decision["fired_rules"] == [
        "ACME-PA-JOINT",
        "ACME-DOC-JOINT",
        "ACME-ROUTE-ANY",
        "ACME-CLOCK-STANDARD",
    ]
    assert decision["decision"]["complete"] is True
    nowhere = await live.api.get("/v1/cases/01JZZZZZZZZZZZZZZZZZZZZZZZ/decision")
    assert nowhere.status_code == 404


async def test_someone_elses_claim_is_a_conflict_and_assign_hands_it_on(live: LiveGateway) -> None:
    await post_case(live.api, "held-2", example(**INPATIENT_KNEE))
    [item] = await _items(live, queue="acme-intake")
    assigned = await live.api.post(
        f"/v1/work-items/{item['id']}/assign", json={"assignee": "nurse.lee"}
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"] == "nurse.lee"
    taken = await live.api.post(f"/v1/work-items/{item['id']}/claim")
    assert taken.status_code == 409
    bad = await live.api.post(f"/v1/work-items/{item['id']}/assign", json={"assignee": ""})
    assert bad.status_code in {400, 422}


async def test_a_policy_exception_approved_by_a_person_stays_approved(live: LiveGateway) -> None:
    case_id = str((await post_case(live.api, "emerging", example(procedure_code="0042T")))["id"])
    [item] = await _items(live, queue="acme-medical-director")
    assert (item["kind"], item["role"]) == ("policy_exception", "medical_director")
    approved = await live.api.post(f"/v1/work-items/{item['id']}/resolve", json={})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["sent"], approved.json()["still_held"]) == (True, [])
    await live.wait_for(case_id, {"approved"})
    decision = (await live.api.get(f"/v1/cases/{case_id}/decision")).json()
    assert "ACME-HOLD-EMERGING" in decision["fired_rules"], "the exception is still on record"
