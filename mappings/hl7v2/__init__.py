"""HL7 v2 (2.3 to 2.8): the codec, message structures, mappings to and from canonical, ACKs.

Pure code, no I/O: the MLLP connector moves the bytes this package reads and writes.
"""

from mappings.hl7v2.ack import AckCode, AckMode, Sender, ack_code, acknowledge, header_of
from mappings.hl7v2.codec import Message, Segment, Tolerated, parse, serialize
from mappings.hl7v2.delimiters import Delimiters
from mappings.hl7v2.documents import document_content
from mappings.hl7v2.errors import (
    ErrorCode,
    Hl7CodecError,
    Hl7Error,
    Hl7MappingError,
    Hl7StructureError,
    Hl7UnsupportedError,
    Issue,
    Location,
    Severity,
)
from mappings.hl7v2.events import (
    DocumentEvent,
    InboundEvent,
    OrderCancellation,
    PriorAuthorizationOrder,
    RegistrationEvent,
    SchedulingEvent,
)
from mappings.hl7v2.header import MessageHeader, read_header
from mappings.hl7v2.inbound import Inbound, read_inbound, read_message
from mappings.hl7v2.outbound import Addressing, DecisionForm, decision_message
from mappings.hl7v2.structures import check_structure

__all__ = [
    "AckCode",
    "AckMode",
    "Addressing",
    "DecisionForm",
    "Delimiters",
    "DocumentEvent",
    "ErrorCode",
    "Hl7CodecError",
    "Hl7Error",
    "Hl7MappingError",
    "Hl7StructureError",
    "Hl7UnsupportedError",
    "Inbound",
    "InboundEvent",
    "Issue",
    "Location",
    "Message",
    "MessageHeader",
    "OrderCancellation",
    "PriorAuthorizationOrder",
    "RegistrationEvent",
    "SchedulingEvent",
    "Segment",
    "Sender",
    "Severity",
    "Tolerated",
    "ack_code",
    "acknowledge",
    "check_structure",
    "decision_message",
    "document_content",
    "header_of",
    "parse",
    "read_header",
    "read_inbound",
    "read_message",
    "serialize",
]
