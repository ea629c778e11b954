"""What MSH says about a message: its type, control id, version and how it wants acknowledging.

Read once per message and checked before anything else, because a message whose header cannot
be trusted earns a reject (AR/CR), not an error about its content.
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.hl7v2.codec import Message
from mappings.hl7v2.errors import ErrorCode, Hl7UnsupportedError, Issue, Location

SUPPORTED_VERSIONS = frozenset(
    {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"}
)
PROCESSING_IDS = frozenset({"P", "T", "D"})  # production, training, debugging (table 0103)
MAX_CONTROL_ID = 199  # MSH-10 is 20 characters up to v2.6 and 199 from v2.7


@dataclass(frozen=True, slots=True)
class MessageHeader:
    message_type: str
    trigger_event: str
    control_id: str
    processing_id: str
    version: str
    accept_ack_type: str
    application_ack_type: str

    @property
    def type_event(self) -> str:
        return f"{self.message_type}^{self.trigger_event}"


def _at(field: int, component: int | None = None) -> Location:
    return Location("MSH", 1, 1, field, component=component)


def read_header(message: Message) -> MessageHeader:
    """The header, or `Hl7UnsupportedError` listing every MSH field that rules it out."""
    msh = message.header
    header = MessageHeader(
        message_type=msh.value(9, 1),
        trigger_event=msh.value(9, 2),
        control_id=msh.value(10),
        processing_id=msh.value(11),
        version=msh.value(12),
        accept_ack_type=msh.value(15),
        application_ack_type=msh.value(16),
    )
    issues: list[Issue] = []
    missing = ErrorCode.required_field_missing
    if not header.message_type:
        issues.append(Issue(_at(9, 1), missing, "the message type is missing"))
    if not header.trigger_event:
        issues.append(Issue(_at(9, 2), missing, "the trigger event is missing"))
    if not header.control_id:
        issues.append(Issue(_at(10), missing, "the message control id is missing"))
    elif len(header.control_id) > MAX_CONTROL_ID:
        issues.append(
            Issue(_at(10), ErrorCode.value_too_long, "the message control id is too long")
        )
    if header.processing_id not in PROCESSING_IDS:
        issues.append(
            Issue(
                _at(11),
                ErrorCode.unsupported_processing_id,
                "the processing id must be P, T or D",
            )
        )
    if header.version not in SUPPORTED_VERSIONS:
        issues.append(
            Issue(_at(12), ErrorCode.unsupported_version, "the version must be 2.3 to 2.8")
        )
    if issues:
        raise Hl7UnsupportedError(issues)
    return header
