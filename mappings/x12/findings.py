"""Validation results in the acknowledgment vocabulary, and what each code means.

Findings carry the codes a 999 (IK3/IK4/IK5/AK9) or a TA1 reports, so building the
acknowledgment is a translation, not a second judgment. Their messages name positions and
element numbers only, never values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEGMENT_CODES = {
    "1": "unrecognized segment id",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}
ELEMENT_CODES = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I10": "implementation 'not used' data element present",
    "I12": "implementation pattern match failure",
}
TRANSACTION_CODES = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique within the functional group",
    "I5": "implementation one or more segments in error",
    "I6": "implementation convention not supported",
}
GROUP_CODES = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in the functional group header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
    "19": "functional group control number not unique within interchange",
}
TA1_CODES = {
    "000": "no error",
    "001": "the interchange control number in the header and trailer do not match",
    "002": "this standard as noted in the control standards identifier is not supported",
    "003": "this version of the controls is not supported",
    "004": "the segment terminator is invalid",
    "005": "invalid interchange id qualifier for sender",
    "006": "invalid interchange sender id",
    "007": "invalid interchange id qualifier for receiver",
    "008": "invalid interchange receiver id",
    "009": "unknown interchange receiver id",
    "010": "invalid authorization information qualifier value",
    "011": "invalid authorization information value",
    "012": "invalid security information qualifier value",
    "013": "invalid security information value",
    "014": "invalid interchange date value",
    "015": "invalid interchange time value",
    "016": "invalid interchange standards identifier value",
    "017": "invalid interchange version id value",
    "018": "invalid interchange control number value",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator value",
    "021": "invalid number of included groups value",
    "022": "invalid control structure",
    "023": "improper (premature) end-of-file (transmission)",
    "024": "invalid interchange content (e.g., invalid GS segment)",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
}


@dataclass(frozen=True, slots=True)
class ElementError:
    """An IK4: `position` in the segment, `component` and `repeat` (1-based) where relevant."""

    position: int
    code: str
    ref: str = ""
    component: int | None = None
    repeat: int | None = None

    @property
    def message(self) -> str:
        return ELEMENT_CODES.get(self.code, "invalid data element")

    def where(self) -> str:
        text = f"element {self.position:02d}"
        if self.component is not None:
            text += f" component {self.component}"
        if self.repeat is not None:
            text += f" repeat {self.repeat}"
        return text


@dataclass(frozen=True, slots=True)
class SegmentError:
    """An IK3: `position` counts from the ST (1); `loop` is the loop the segment belongs to."""

    segment_id: str
    position: int
    code: str
    loop: str | None = None
    elements: tuple[ElementError, ...] = ()

    @property
    def message(self) -> str:
        return SEGMENT_CODES.get(self.code, "segment in error")

    def where(self) -> str:
        text = f"segment {self.position} ({self.segment_id}"
        return text + (f", loop {self.loop})" if self.loop else ")")

    def located(self) -> list[tuple[str, str]]:
        """(location, message) pairs, one per element error or one for the segment."""
        if not self.elements:
            return [(self.where(), self.message)]
        return [(f"{self.where()} {e.where()}", e.message) for e in self.elements]


@dataclass(slots=True)
class TransactionReport:
    """The verdict on one ST..SE: IK5 codes for the set, IK3/IK4 for its segments."""

    set_id: str
    control_number: str
    reference: str
    position: int  # of its ST in the interchange, for locating set-level problems
    codes: list[str] = field(default_factory=list)
    errors: list[SegmentError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.codes and not self.errors


@dataclass(slots=True)
class GroupReport:
    functional_id: str
    control_number: str
    version: str
    position: int
    codes: list[str] = field(default_factory=list)
    transactions: list[TransactionReport] = field(default_factory=list)

    @property
    def accepted_count(self) -> int:
        return sum(t.accepted for t in self.transactions)

    @property
    def status(self) -> str:
        """AK901: A all accepted, P some rejected, R rejected (or the group itself in error)."""
        if self.codes or (self.transactions and not self.accepted_count):
            return "R"
        if self.accepted_count < len(self.transactions):
            return "P"
        return "A"


@dataclass(slots=True)
class InterchangeReport:
    control_number: str
    ta1_code: str = "000"
    envelope_errors: list[tuple[str, str]] = field(default_factory=list)
    groups: list[GroupReport] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.ta1_code == "000" and all(g.status == "A" for g in self.groups)
