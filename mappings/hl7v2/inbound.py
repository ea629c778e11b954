"""Bytes from the EHR -> the canonical meaning of the message, or located errors.

The steps run cheapest first and each refuses with its own error class: the codec
(`Hl7CodecError`), the header (`Hl7UnsupportedError`: type, event, version, processing id), the
message structure (`Hl7StructureError`) and the mapping (`Hl7MappingError`). `acknowledge` turns
any of them into the ACK the sender is owed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from mappings.hl7v2.codec import Message, parse
from mappings.hl7v2.documents import map_document
from mappings.hl7v2.errors import ErrorCode, Hl7UnsupportedError, Issue, Location
from mappings.hl7v2.events import InboundEvent
from mappings.hl7v2.header import MessageHeader, read_header
from mappings.hl7v2.orders import map_order
from mappings.hl7v2.registration import map_registration
from mappings.hl7v2.scheduling import map_schedule
from mappings.hl7v2.structures import check_structure, definition

Mapper = Callable[[Message, MessageHeader], InboundEvent]


@dataclass(frozen=True, slots=True)
class Route:
    structure: str
    mapper: Mapper


def _orders(message: Message, _: MessageHeader) -> InboundEvent:
    return map_order(message, drug=False)


def _drugs(message: Message, _: MessageHeader) -> InboundEvent:
    return map_order(message, drug=True)


def _schedule(message: Message, header: MessageHeader) -> InboundEvent:
    return map_schedule(message, header.trigger_event)


def _registration(message: Message, header: MessageHeader) -> InboundEvent:
    return map_registration(message, header.trigger_event)


def _document(message: Message, _: MessageHeader) -> InboundEvent:
    return map_document(message)


# (MSH-9.1, MSH-9.2) -> structure and mapping. SIU^S13..S15 share SIU_S12's structure, ADT^A04
# and A08 share ADT_A01's, as the standard assigns them. RDE^O01 is v2.3's pharmacy order.
ROUTES: dict[tuple[str, str], Route] = {
    ("ORM", "O01"): Route("ORM_O01", _orders),
    ("OMG", "O19"): Route("OMG_O19", _orders),
    ("RDE", "O11"): Route("RDE_O11", _drugs),
    ("RDE", "O01"): Route("RDE_O01", _drugs),
    **{("SIU", event): Route("SIU_S12", _schedule) for event in ("S12", "S13", "S14", "S15")},
    ("ADT", "A04"): Route("ADT_A01", _registration),
    ("ADT", "A08"): Route("ADT_A01", _registration),
    ("MDM", "T02"): Route("MDM_T02", _document),
}
MESSAGE_TYPES = frozenset(message_type for message_type, _ in ROUTES)


@dataclass(frozen=True, slots=True)
class Inbound:
    message: Message
    header: MessageHeader
    event: InboundEvent


def read_inbound(data: bytes) -> Inbound:
    """Parse, check and map one message; raises a subclass of `Hl7Error` when it cannot."""
    return read_message(parse(data))


def read_message(message: Message) -> Inbound:
    header = read_header(message)
    route = _route(header)
    check_structure(message, route.structure, header.version)
    return Inbound(message, header, route.mapper(message, header))


def _route(header: MessageHeader) -> Route:
    route = ROUTES.get((header.message_type, header.trigger_event))
    if route is None and header.message_type not in MESSAGE_TYPES:
        _unsupported(9, 1, ErrorCode.unsupported_message_type, "not a message type we take")
    if route is None:
        _unsupported(9, 2, ErrorCode.unsupported_event, "not a trigger event we take")
    if definition(route.structure, header.version) is None:
        _unsupported(
            9, 2, ErrorCode.unsupported_event, f"v{header.version} does not define this message"
        )
    return route


def _unsupported(field: int, component: int, code: ErrorCode, problem: str) -> NoReturn:
    where = Location("MSH", 1, 1, field, component=component)
    raise Hl7UnsupportedError([Issue(where, code, problem)])
