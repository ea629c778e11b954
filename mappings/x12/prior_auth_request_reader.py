"""A 278 request (005010X217) -> case id + canonical `PriorAuthorizationRequest`.

The inverse of `prior_auth_request`, for the side that receives requests (a clearinghouse or
payer sandbox, an inbound file). Attachments are not rebuilt: a PWK names a document sent
separately (a 275), and the canonical attachment needs its bytes' digest and size. A one-day
service date reads back as a period starting and ending that day.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from canonical.cases import PriorAuthorizationRequest
from mappings.x12.errors import CanonicalMappingError, Location, X12Error
from mappings.x12.loop_tree import LoopNode
from mappings.x12.tree_reading import (
    address,
    dtp_period,
    first_loop,
    needed,
    payer_party,
    person,
    present,
    provider,
    ref_value,
)
from mappings.x12.vocabulary import (
    EXPEDITED_LEVELS,
    RELATIONSHIP_FROM_X12,
    UNIT_FROM_X12,
)


def read_278_request(tree: LoopNode) -> tuple[str, PriorAuthorizationRequest]:
    bht = needed(tree.segment("BHT"), "BHT")
    umo = first_loop(tree, "2000A")
    payer = payer_party(first_loop(umo, "2010A"))
    requester = first_loop(umo, "2000B")
    subscriber_level = first_loop(requester, "2000C")
    subscriber_name = first_loop(subscriber_level, "2010C")
    member = needed(subscriber_name.segment("NM1"), "NM1")
    dependents = subscriber_level.loops("2000D")
    patient_name = first_loop(dependents[0], "2010D") if dependents else subscriber_name
    event = first_loop(dependents[0] if dependents else subscriber_level, "2000E")
    um = event.segment("UM")
    place = um.component(4, 1) if um and um.component(4, 2) == "B" else ""
    group = subscriber_name.segment("REF", "6P")
    document: dict[str, Any] = {
        "urgency": "expedited" if um and um.get(6) in EXPEDITED_LEVELS else "standard",
        "patient": person(patient_name) | present(mrn=ref_value(patient_name, "EJ")),
        "coverage": present(
            member_id=member.get(9),
            group_number=group.get(2) if group else None,
            relationship=_relationship(patient_name) if dependents else "self",
            subscriber=person(subscriber_name) if dependents else None,
        ),
        "payer": payer,
        "requesting_provider": provider(first_loop(requester, "2010B")),
        "diagnoses": _diagnoses(event),
        "service_lines": [
            _line(node, index, place, event) for index, node in enumerate(event.loops("2000F"))
        ],
        **_event_parties(event, place),
    }
    message = event.segment("MSG")
    if message is not None and message.get(1):
        document["notes"] = message.text(1)
    try:
        return bht.get(3), PriorAuthorizationRequest.model_validate(document)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def _relationship(node: LoopNode) -> str:
    ins = node.segment("INS")
    return RELATIONSHIP_FROM_X12.get(ins.get(2) if ins else "", "other")


def _event_parties(event: LoopNode, place: str) -> dict[str, Any]:
    parties: dict[str, Any] = {}
    for node in event.loops("2010EA"):
        nm1 = node.segment("NM1")
        entity = nm1.get(1) if nm1 else ""
        if entity == "SJ" and "rendering_provider" not in parties:
            parties["rendering_provider"] = provider(node)
        elif entity == "FA" and "facility" not in parties:
            facility = provider(node)
            facility.pop("taxonomy", None)
            where = address(node)
            parties["facility"] = facility | present(place_of_service=place, address=where)
    return parties


def _diagnoses(event: LoopNode) -> list[dict[str, str]]:
    hi = event.segment("HI")
    if hi is None:
        return []
    return [{"code": hi.component(i, 2)} for i in range(1, len(hi) + 1) if hi.component(i, 2)]


def _line(node: LoopNode, index: int, event_place: str, event: LoopNode) -> dict[str, Any]:
    trn = node.segment("TRN", "1")
    trace = trn.get(2) if trn else ""
    um = node.segment("UM")
    place = um.component(4, 1) if um and um.component(4, 2) == "B" else event_place
    dates = node.segment("DTP", "472") or event.segment("DTP", "AAH")
    line: dict[str, Any] = {
        "sequence": int(trace) if trace.isascii() and trace.isdigit() else index + 1,
        "service_period": dtp_period(needed(dates, "DTP")),
    }
    if place:
        line["place_of_service"] = place
    sv1, sv2 = node.segment("SV1"), node.segment("SV2")
    service = sv1 or sv2
    if service is None:
        raise X12Error("a service needs an SV1 or SV2", Location(None, "SV1"))
    position = 1 if sv1 else 2
    procedure = service.components(position)
    line["procedure_code"] = procedure[1] if len(procedure) > 1 else ""
    line["modifiers"] = [m for m in procedure[2:6] if m]
    if len(procedure) > 6 and procedure[6]:
        line["description"] = procedure[6]
    unit, count = (service.get(3), service.get(4)) if sv1 else (service.get(4), service.get(5))
    hsd = node.segment("HSD")
    if hsd is not None and hsd.get(1) == "DY" and hsd.get(2):
        unit, count = "DA", hsd.get(2)
    if count:
        line["units"] = count
    if unit in UNIT_FROM_X12:
        line["unit_type"] = UNIT_FROM_X12[unit].value
    return line
