"""An EHR order is decided by the policy book once, and that decision is stored with the case it
opens: its pack version, the rules that fired and the SLA clock; a hold waits for a person as a
work item and sends nothing, a case the pack lets through goes out on the decision's route, and
an order that needs no authorization opens nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.connectors.hl7v2_mllp.support import golden
from tests.gateway.hl7.conftest import Hl7Gateway, sent_order, with_control_id


async def _only_case(gateway: Hl7Gateway) -> tuple[str, str]:
    [(case_id, status)] = await gateway.rows("SELECT id, status FROM cases")
    return str(case_id), str(status)


async def test_an_order_missing_what_the_pack_requires_is_held_for_a_person(
    gateway: Hl7Gateway, order: bytes
) -> None:
    await gateway.send(order)
    case_id, status = await _only_case(gateway)
    assert status == "more_info_requested"
    assert await gateway.count("outbox_jobs", "kind = 'case.send'") == 0
    [(kind, queue)] = await gateway.rows("SELECT kind, queue FROM work_items")
    assert (kind, queue) == ("missing_fields", "acme-intake")

    response = await gateway.get(f"/v1/cases/{case_id}/decision")
    assert response.status_code == 200, response.text
    decision = response.json()
    in_force = gateway.runtime.policies.book.pack_for("ACMEHP")
    assert (decision["pack_id"], decision["pack_version"]) == ("acmehp", in_force.version)
    assert decision["fired_rules"][:3] == ["ACME-PA-JOINT", "ACME-DOC-JOINT", "ACME-HOLD-FIELDS"]
    assert decision["decision"]["missing"][0]["code"] == "rendering_provider"
    # A standard case: 7 calendar days from when the message was received.
    decided_at = datetime.fromisoformat(decision["decided_at"])
    due = datetime.fromisoformat(decision["sla_due_at"])
    assert timedelta(days=6, hours=23) < due - decided_at <= timedelta(days=7)


async def test_a_reschedule_reaches_a_held_order_before_anything_is_sent(
    gateway: Hl7Gateway, order: bytes
) -> None:
    await gateway.send(order)
    await gateway.send(golden("siu-s13-rescheduled"))
    [(payload, status)] = await gateway.rows("SELECT payload, status FROM cases")
    lines = (json.loads(payload) if isinstance(payload, str) else payload)["service_lines"]
    assert (status, lines[0]["service_period"]["start"]) == ("more_info_requested", "2026-12-21")


async def test_an_order_the_pack_lets_through_goes_out_on_the_decided_route(
    gateway: Hl7Gateway, order: bytes
) -> None:
    await gateway.send(sent_order(order))
    case_id, status = await _only_case(gateway)
    assert status == "draft"
    assert await gateway.count("work_items") == 0
    [(payload,)] = await gateway.rows("SELECT payload FROM outbox_jobs WHERE kind = 'case.send'")
    job = json.loads(payload) if isinstance(payload, str) else payload
    assert job["route"] == ["channel:fhir_pas", "channel:x12_278"]
    decision = (await gateway.get(f"/v1/cases/{case_id}/decision")).json()
    assert decision["fired_rules"] == ["ACME-PA-IMAGING", "ACME-ROUTE-ANY", "ACME-CLOCK-STANDARD"]


async def test_an_order_that_needs_no_authorization_is_kept_and_opens_nothing(
    gateway: Hl7Gateway, order: bytes
) -> None:
    therapy = order.replace(b"27447^Total knee arthroplasty", b"97110^Therapeutic exercise")
    ack = await gateway.send(with_control_id(therapy, "PT-1"))
    assert b"MSA|CA|PT-1" in ack
    assert await gateway.count("cases") == 0
    assert await gateway.count("case_policies") == 0
    assert await gateway.count("messages", "case_id IS NULL AND error IS NULL") == 1
