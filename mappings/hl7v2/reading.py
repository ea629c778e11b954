"""Reading HL7 data types (dates, names, coded values, identifiers) with their locations.

Mappings gather every problem before giving up, so one AE lists all of them: a reader that
cannot make sense of a value records a located issue in `Findings` and returns None, and the
mapping carries on. Canonical models are validated part by part with `Findings.build`, which
turns pydantic's complaints into locations in the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from mappings.hl7v2.codec import Message, Repetition, Segment, leaf
from mappings.hl7v2.errors import ErrorCode, Hl7MappingError, Issue, Location

M = TypeVar("M", bound=BaseModel)
_DTM = re.compile(
    r"^(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?(?P<hour>\d{2})?(?P<minute>\d{2})?"
    r"(?P<second>\d{2})?(?:\.\d{1,4})?(?P<offset>[+-]\d{4})?$"
)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
NPI_SYSTEM_OID = "2.16.840.1.113883.4.6"


@dataclass(frozen=True, slots=True)
class Placed:
    """A segment with its position, so whatever is read from it can say where it was."""

    segment: Segment
    index: int
    occurrence: int

    @property
    def id(self) -> str:
        return self.segment.id

    def at(
        self, field: int | None = None, component: int | None = None, repetition: int = 1
    ) -> Location:
        return Location(self.segment.id, self.index, self.occurrence, field, repetition, component)

    def value(self, field: int, component: int = 1, subcomponent: int = 1, rep: int = 1) -> str:
        return self.segment.value(field, component, subcomponent, rep)

    def repetitions(self, field: int) -> tuple[Repetition, ...]:
        return self.segment.field(field)


def placed(message: Message) -> list[Placed]:
    occurrences: dict[str, int] = {}
    result = []
    for index, segment in enumerate(message.segments, start=1):
        occurrence = occurrences[segment.id] = occurrences.get(segment.id, 0) + 1
        result.append(Placed(segment, index, occurrence))
    return result


class Findings:
    """Issues found while mapping one message."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def missing(self, where: Location, what: str) -> None:
        self.issues.append(Issue(where, ErrorCode.required_field_missing, f"{what} is missing"))

    def invalid(self, where: Location, problem: str) -> None:
        self.issues.append(Issue(where, ErrorCode.data_type, problem))

    def unknown(self, where: Location, problem: str) -> None:
        self.issues.append(Issue(where, ErrorCode.table_value_not_found, problem))

    def add(self, where: Location, code: ErrorCode, problem: str) -> None:
        self.issues.append(Issue(where, code, problem))

    def check(self) -> None:
        if self.issues:
            raise Hl7MappingError(self.issues)

    def fail(self) -> NoReturn:
        """Give up now, reporting everything found so far (at least one finding)."""
        raise Hl7MappingError(self.issues)

    def build(
        self,
        model: type[M],
        data: Mapping[str, Any],
        sources: Mapping[str, Location],
        fallback: Location,
    ) -> M | None:
        """Validate `data` as `model`; each error is placed at the source of its first key."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False, include_context=False):
                key = str(error["loc"][0]) if error["loc"] else ""
                problem = error["msg"].removeprefix("Value error, ")
                self.invalid(sources.get(key, fallback), f"{key or model.__name__}: {problem}")
            return None

    def build_or_raise(
        self,
        model: type[M],
        data: Mapping[str, Any],
        sources: Mapping[str, Location],
        fallback: Location,
    ) -> M:
        """`build`, raising every finding so far when it fails: the last step of a mapping."""
        built = self.build(model, data, sources, fallback)
        if built is None:
            raise Hl7MappingError(self.issues)
        return built


def read_dtm(text: str) -> tuple[date, datetime | None] | None:
    """An HL7 DTM/TS value as its date and, when it has hours and minutes, its moment.

    Without a UTC offset the moment is naive: it is the sender's local time, and saying
    which zone that is would be a guess.
    """
    match = _DTM.match(text)
    if match is None or match["day"] is None:
        return None
    parts = match.groupdict()
    try:
        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        if parts["minute"] is None:
            return day, None
        zone = None
        if parts["offset"]:
            sign = -1 if parts["offset"][0] == "-" else 1
            hours, minutes = int(parts["offset"][1:3]), int(parts["offset"][3:5])
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return day, moment


def read_date(
    findings: Findings, where: Location, text: str, what: str, *, required: bool = False
) -> date | None:
    if not text:
        if required:
            findings.missing(where, what)
        return None
    read = read_dtm(text)
    if read is None:
        findings.invalid(where, f"{what} is not an HL7 date (YYYYMMDD...)")
        return None
    return read[0]


def read_number(text: str) -> Decimal | None:
    if not _NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True, slots=True)
class Coded:
    """One code of a CE/CWE/CNE value: the identifier, its text, its coding system."""

    code: str
    text: str
    system: str
    component: int  # 1 for the primary code, 4 for the alternate


def codings(repetition: Repetition) -> Iterator[Coded]:
    """The primary code (components 1-3), then the alternate one (components 4-6)."""
    for first in (1, 4):
        code = leaf(repetition, first)
        if code:
            text, system = leaf(repetition, first + 1), leaf(repetition, first + 2).upper()
            yield Coded(code, text, system, first)


def person_name(repetitions: tuple[Repetition, ...]) -> tuple[str, str]:
    """Family and given name of an XPN, preferring the legal name (XPN-7 = L)."""
    chosen = next((r for r in repetitions if leaf(r, 7) == "L"), None)
    chosen = chosen or (repetitions[0] if repetitions else ())
    return leaf(chosen, 1), leaf(chosen, 2)


def identifier(repetitions: tuple[Repetition, ...], type_code: str) -> str:
    """The CX identifier of the given type (CX-5), else the first one."""
    chosen = next((r for r in repetitions if leaf(r, 5) == type_code), None)
    chosen = chosen or (repetitions[0] if repetitions else ())
    return leaf(chosen, 1)


def is_npi(repetition: Repetition) -> bool:
    """An XCN that says its id is an NPI (type code, or assigning authority name or OID)."""
    return (
        leaf(repetition, 13) == "NPI"
        or leaf(repetition, 9) == "NPI"
        or leaf(repetition, 9, 2) == NPI_SYSTEM_OID
    )


def provider_name(repetition: Repetition) -> str:
    """XCN as the name a reviewer reads: given, family, then the degree (Dana Ortho, MD)."""
    name = " ".join(p for p in (leaf(repetition, 3), leaf(repetition, 2)) if p)
    degree = leaf(repetition, 7)
    return f"{name}, {degree}" if name and degree else name
