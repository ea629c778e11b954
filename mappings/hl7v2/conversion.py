"""`casegate convert --from hl7v2 --to canonical`: a message's canonical meaning as JSON.

A message that opens a case prints the case envelope `canonical -> canonical` reads
(`case_type` and `payload`), plus the order's identifiers; one that opens no case prints its
canonical event. A message that cannot be taken raises `ConversionError` carrying the located
problems and, as `rejection`, the AE/AR (or CE/CR) ACK the sender would get.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from mappings.conversions import ConversionError, LocatedError, register
from mappings.hl7v2.ack import acknowledge, header_of
from mappings.hl7v2.errors import (
    Hl7CodecError,
    Hl7Error,
    Hl7MappingError,
    Hl7StructureError,
    Hl7UnsupportedError,
)
from mappings.hl7v2.events import (
    DocumentEvent,
    OrderCancellation,
    PriorAuthorizationOrder,
    RegistrationEvent,
    SchedulingEvent,
)
from mappings.hl7v2.inbound import Inbound, read_inbound
from mappings.hl7v2.vocabulary import OrderControl

_SUMMARY: dict[type[Hl7Error], str] = {
    Hl7CodecError: "not a readable HL7 v2 message",
    Hl7UnsupportedError: "an HL7 v2 message casegate does not take",
    Hl7StructureError: "segments out of order for the message structure",
    Hl7MappingError: "the message lacks or garbles data the canonical model needs",
}


def inbound_json(inbound: Inbound) -> dict[str, Any]:
    header = inbound.header
    document: dict[str, Any] = {
        "message": {
            "type": header.type_event,
            "control_id": header.control_id,
            "version": header.version,
        }
    }
    event = inbound.event
    if isinstance(event, PriorAuthorizationOrder):
        placed = event.control is OrderControl.new
        document["event"] = "order.placed" if placed else "order.changed"
        document["case_type"] = "prior_authorization"
        document["order"] = event.model_dump(mode="json", exclude={"request"})
        document["payload"] = event.request.model_dump(mode="json")
    else:
        document["event"] = event_name(event)
        document["payload"] = event.model_dump(mode="json")
    if inbound.message.tolerated:
        document["tolerated"] = dataclasses.asdict(inbound.message.tolerated)
    return document


def event_name(
    event: OrderCancellation | SchedulingEvent | RegistrationEvent | DocumentEvent,
) -> str:
    if isinstance(event, OrderCancellation):
        return "order.cancelled"
    if isinstance(event, SchedulingEvent):
        return f"appointment.{event.action.value}"
    if isinstance(event, RegistrationEvent):
        return f"patient.{event.kind.value}"
    return "document.received"


@register("hl7v2", "canonical")
def hl7v2_to_canonical(data: bytes) -> bytes:
    try:
        inbound = read_inbound(data)
    except Hl7Error as exc:
        rejection = acknowledge(
            header_of(data),
            exc.issues,
            control_id="ACK" + hashlib.sha256(data).hexdigest()[:17],
            at=datetime.now(UTC),
        )
        raise ConversionError(
            _SUMMARY[type(exc)],
            [LocatedError(str(issue.location), issue.message) for issue in exc.issues],
            rejection=rejection,
        ) from None
    return json.dumps(inbound_json(inbound), indent=2).encode() + b"\n"
