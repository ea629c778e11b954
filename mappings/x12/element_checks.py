"""Checking one segment's elements against its description: the IK4 half of a 999.

Runs once per segment on every transaction read, so it avoids regular expressions and
allocations on the common path: most elements are short, present and valid.
"""

from __future__ import annotations

from datetime import date

from mappings.x12.delimiters import Delimiters
from mappings.x12.findings import ElementError
from mappings.x12.schema import Composite, DateFormat, Element, N, R, Rule, SegmentSpec
from mappings.x12.segments import Segment

# Verdicts by (description, delimiters, elements): large files repeat the same segments (dates,
# adjustments, provider names) thousands of times, and a check is a pure function of these.
# Each entry keeps its description and delimiters alive, so the ids in its key cannot be
# reused by other objects while it is cached.
_VERDICTS: dict[
    tuple[int, int, tuple[str, ...]],
    tuple[SegmentSpec, Delimiters, tuple[ElementError, ...]],
] = {}
_MAX_VERDICTS = 20_000


def check_segment(spec: SegmentSpec, segment: Segment) -> tuple[ElementError, ...]:
    key = (id(spec), id(segment.delimiters), tuple(segment.elements))
    cached = _VERDICTS.get(key)
    if cached is None:
        if len(_VERDICTS) >= _MAX_VERDICTS:
            _VERDICTS.clear()
        cached = _VERDICTS[key] = (spec, segment.delimiters, tuple(_judge(spec, segment)))
    return cached[2]


def _judge(spec: SegmentSpec, segment: Segment) -> list[ElementError]:
    errors: list[ElementError] = []
    elements = segment.elements
    count = len(elements) - 1
    if count > spec.size:
        errors.append(ElementError(spec.size + 1, "3"))
        count = spec.size
    fields = spec.fields
    delimiters = segment.delimiters
    plain = delimiters.release is None
    component = delimiters.component
    repetition = delimiters.repetition or component
    declared_count = len(fields)
    for position in range(1, max(declared_count, count) + 1):
        raw = elements[position] if position <= count else ""
        declared = fields[position - 1] if position <= declared_count else None
        if declared is None:
            if raw:
                errors.append(ElementError(position, "I10"))
            continue
        if not raw:
            if declared.usage is R:
                errors.append(ElementError(position, "1", declared.ref))
            continue
        if declared.usage is N:
            errors.append(ElementError(position, "I10", declared.ref))
            continue
        if (
            plain
            and type(declared) is Element
            and declared.repeat == 1
            and component not in raw
            and repetition not in raw
        ):
            # the common case: a plain value with no separator or release character in it
            problem = check_value(declared, raw)
            if problem:
                errors.append(ElementError(position, problem, declared.ref))
            continue
        _check_field(declared, segment, position, errors)
    if spec.rules:  # an element already reported (say, required and missing) is not again
        reported = {e.position for e in errors}
        for check in spec.rules:
            if isinstance(check, Rule):
                errors.extend(
                    ElementError(p, problem, _ref(spec, p))
                    for p, problem in _violations(check, elements, count)
                    if p not in reported
                )
            elif check.value not in reported and not _valid_dated(check, segment):
                errors.append(ElementError(check.value, "8", _ref(spec, check.value)))
    return errors


def _check_field(
    declared: Element | Composite, segment: Segment, position: int, errors: list[ElementError]
) -> None:
    raw_element = segment.elements[position]
    separator = segment.delimiters.repetition
    if separator is None or separator not in raw_element:
        repeats = [raw_element]
    else:
        repeats = segment.repetitions(position)
    if len(repeats) > declared.repeat:
        errors.append(ElementError(position, "12", declared.ref))
        repeats = repeats[: declared.repeat]
    many = declared.repeat > 1
    for index, raw in enumerate(repeats):
        repeat = index + 1 if many else None
        if isinstance(declared, Element):
            if segment.delimiters.component in raw:
                errors.append(ElementError(position, "6", declared.ref, None, repeat))
                continue
            value = raw if segment.delimiters.release is None else segment.get(position)
            problem = check_value(declared, value)
            if problem:
                errors.append(ElementError(position, problem, declared.ref, None, repeat))
            continue
        components = segment.components(position, index)
        if len(components) > len(declared.components):
            errors.append(ElementError(position, "13", declared.ref, None, repeat))
        for number, part in enumerate(declared.components, start=1):
            value = components[number - 1] if number <= len(components) else ""
            if part is None:
                if value:
                    errors.append(ElementError(position, "I10", "", number, repeat))
            elif not value:
                if part.usage is R:
                    errors.append(ElementError(position, "1", part.ref, number, repeat))
            elif part.usage is N:
                errors.append(ElementError(position, "I10", part.ref, number, repeat))
            else:
                problem = check_value(part, value)
                if problem:
                    errors.append(ElementError(position, problem, part.ref, number, repeat))


def check_value(declared: Element, value: str) -> str:
    """The IK403 code for `value` against `declared`, or "" when it is valid."""
    kind = declared.kind
    length = len(value)
    if kind in {"AN", "ID"}:
        if not value.isprintable():
            return "6"
    elif kind == "DT":
        return "" if valid_date(value, declared.min_length) else "8"
    elif kind == "TM":
        return "" if valid_time(value) else "9"
    else:
        digits = value[1:] if value[:1] == "-" else value
        if kind == "R":
            whole, _, fraction = digits.partition(".")
            digits = whole + fraction
        if not digits or not digits.isascii() or not digits.isdigit():
            return "6"
        length = len(digits)
    if length < declared.min_length:
        return "4"
    if length > declared.max_length:
        return "5"
    if declared.codes is not None and value not in declared.codes:
        return "7"
    return ""


def valid_date(value: str, length: int = 8) -> bool:
    """CCYYMMDD, or YYMMDD where the element is six long (the ISA's)."""
    if len(value) != length or not value.isascii() or not value.isdigit():
        return False
    full = value if length == 8 else "20" + value
    try:
        date(int(full[:4]), int(full[4:6]), int(full[6:8]))
    except ValueError:
        return False
    return True


def valid_time(value: str) -> bool:
    """HHMM, HHMMSS or HHMMSSD[D]."""
    if len(value) not in (4, 6, 7, 8) or not value.isascii() or not value.isdigit():
        return False
    if int(value[:2]) > 23 or int(value[2:4]) > 59:
        return False
    return len(value) == 4 or int(value[4:6]) <= 59


def _ref(spec: SegmentSpec, position: int) -> str:
    declared = spec.fields[position - 1] if position <= len(spec.fields) else None
    return declared.ref if declared is not None else ""


def _violations(rule: Rule, elements: list[str], count: int) -> list[tuple[int, str]]:
    """(position, IK403 code) for each element the syntax note finds wanting."""
    present = [p for p in rule.positions if p <= count and elements[p]]
    first, *others = rule.positions
    kind = rule.kind
    flagged: list[tuple[int, str]] = []
    if kind == "P" and present and len(present) < len(rule.positions):
        flagged = [(p, "2") for p in rule.positions if p not in present]
    elif kind == "R" and not present:
        flagged = [(first, "2")]
    elif kind == "C" and first in present:
        flagged = [(p, "2") for p in others if p not in present]
    elif kind == "E" and len(present) > 1:
        flagged = [(present[1], "10")]
    elif kind == "L" and first in present and not any(p in present for p in others):
        flagged = [(others[0], "2")]
    return flagged


def _valid_dated(check: DateFormat, segment: Segment) -> bool:
    """Whether the date agrees with the format its qualifier names (D8, RD8, DT)."""
    value = segment.get(check.value)
    qualifier = segment.get(check.qualifier)
    if not value:
        return True
    if qualifier == "D8":
        return valid_date(value)
    if qualifier == "RD8":
        start, dash, end = value.partition("-")
        return bool(dash) and valid_date(start) and valid_date(end) and start <= end
    if qualifier == "DT":
        return len(value) == 12 and valid_date(value[:8]) and valid_time(value[8:])
    return True
