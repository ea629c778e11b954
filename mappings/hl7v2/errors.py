"""Located HL7 v2 problems, in the vocabulary the ERR segment speaks.

Every problem names where it is (segment position and id, field, repetition, component,
subcomponent: the ERL data type) and which HL7 table 0357 code describes it, so the same
object feeds an ACK's ERR segment, the CLI's error list and the message store. Messages
describe the rule that failed and never quote the offending value: it may be PHI.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import NamedTuple


class ErrorCode(Enum):
    """HL7 table 0357 (message error condition codes)."""

    segment_sequence = ("100", "Segment sequence error")
    required_field_missing = ("101", "Required field missing")
    data_type = ("102", "Data type error")
    table_value_not_found = ("103", "Table value not found")
    value_too_long = ("104", "Value too long")
    unsupported_message_type = ("200", "Unsupported message type")
    unsupported_event = ("201", "Unsupported event code")
    unsupported_processing_id = ("202", "Unsupported processing id")
    unsupported_version = ("203", "Unsupported version id")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def text(self) -> str:
        return self.value[1]

    @property
    def rejects(self) -> bool:
        """The 2xx codes say the receiver cannot take this kind of message at all."""
        return self.code.startswith("2")


class Severity(StrEnum):
    """HL7 table 0516 (ERR-4)."""

    error = "E"
    warning = "W"
    information = "I"


class Location(NamedTuple):
    """ERL: a segment (by id, position in the message and occurrence of that id) and a path.

    `segment_index` is the 1-based position among all segments; `occurrence` counts only the
    segments with the same id, as ERL-2 does. A missing segment has neither. (A tuple, not a
    dataclass: mappings build dozens per message, in case one is needed.)
    """

    segment_id: str | None = None
    segment_index: int | None = None
    occurrence: int | None = None
    field: int | None = None
    repetition: int | None = None
    component: int | None = None
    subcomponent: int | None = None

    def __str__(self) -> str:
        if self.segment_id is None:
            return "message" if self.segment_index is None else f"segment {self.segment_index}"
        path = self.segment_id
        if self.field is not None:
            path += f"-{self.field}"
            if self.repetition is not None and self.repetition > 1:
                path += f"[{self.repetition}]"
            if self.component is not None:
                path += f".{self.component}"
                if self.subcomponent is not None:
                    path += f".{self.subcomponent}"
        if self.segment_index is None:
            return f"{path} (missing segment)" if self.field is None else path
        return f"segment {self.segment_index} {path}"


@dataclass(frozen=True, slots=True)
class Issue:
    location: Location
    code: ErrorCode
    message: str
    severity: Severity = Severity.error

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    @property
    def rejects(self) -> bool:
        """A problem with the envelope itself (MSH, or no MSH) refuses the message outright."""
        where = self.location
        envelope = where.segment_id == "MSH" or (
            where.segment_id is None and where.segment_index is None
        )
        return self.code.rejects or envelope


class Hl7Error(ValueError):
    """One or more located problems with a message; `str()` names the first."""

    def __init__(self, issues: tuple[Issue, ...] | list[Issue]) -> None:
        if not issues:
            raise ValueError("an Hl7Error needs at least one issue")
        self.issues = tuple(issues)
        super().__init__(str(self.issues[0]))


class Hl7CodecError(Hl7Error):
    """The bytes are not a readable HL7 v2 message (no MSH, bad delimiters, bad escape...)."""


class Hl7StructureError(Hl7Error):
    """The segments are not in an order the message structure allows."""


class Hl7MappingError(Hl7Error):
    """The message is well formed but lacks, or garbles, data the canonical model needs."""


class Hl7UnsupportedError(Hl7Error):
    """A message type, event, version or processing id this gateway does not take."""
