"""Envelope checks: what a TA1 (interchange), an AK9 (group) and an IK5 (set) report.

A TA1 carries one note code, so the interchange checks stop at the first problem, in the
order a receiver meets them: the ISA's own fields, then the structure, then the trailer.
Group and set problems are all collected; they are reported per group in the 999.
"""

from __future__ import annotations

from collections.abc import Callable

from mappings.x12.ack_ta1 import read_ta1
from mappings.x12.element_checks import valid_date, valid_time
from mappings.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from mappings.x12.errors import Location, X12Error
from mappings.x12.findings import TA1_CODES, GroupReport, InterchangeReport, TransactionReport

VERSION = "00501"
ID_QUALIFIERS = frozenset(("01", "14", "20", "27", "28", "29", "30", "33", "ZZ"))


def _numeric(low: int, high: int) -> Callable[[str], bool]:
    return lambda v: low <= len(v) <= high and v.isascii() and v.isdigit()


def _counts(value: str, expected: int) -> bool:
    return value.isascii() and value.isdigit() and int(value) == expected


def _printable(v: str) -> bool:
    return v.isprintable()


# ISA element -> (test, TA1 note code), in the order they are checked.
_ISA_FIELDS: tuple[tuple[int, Callable[[str], bool], str], ...] = (
    (1, frozenset(("00", "01", "02", "03", "04", "05", "06")).__contains__, "010"),
    (2, _printable, "011"),
    (3, frozenset(("00", "01")).__contains__, "012"),
    (4, _printable, "013"),
    (5, ID_QUALIFIERS.__contains__, "005"),
    (6, lambda v: v.isprintable() and bool(v.strip()), "006"),
    (7, ID_QUALIFIERS.__contains__, "007"),
    (8, lambda v: v.isprintable() and bool(v.strip()), "008"),
    (9, lambda v: valid_date(v, 6), "014"),
    (10, lambda v: len(v) == 4 and valid_time(v), "015"),
    (12, VERSION.__eq__, "017"),
    (13, _numeric(9, 9), "018"),
    (14, frozenset(("0", "1")).__contains__, "019"),
    (15, frozenset(("I", "P", "T")).__contains__, "020"),
)


def check_interchange(
    interchange: Interchange, functional_ids: frozenset[str]
) -> InterchangeReport:
    """The envelope verdict; `functional_ids` are the GS01 values casegate supports."""
    header = interchange.header
    report = InterchangeReport(control_number=header.get(13))
    for number, test, note in _ISA_FIELDS:
        if not test(header.get(number)):
            _fail(report, note, f"segment {interchange.position} (ISA) element {number:02d}")
            break
    for position, segment_id, note in interchange.stray:
        _fail(report, note, f"segment {position} ({segment_id})")
    for offset, segment in enumerate(interchange.segments):
        if segment.id == "TA1" and segment in interchange.acknowledgments:
            try:
                read_ta1(segment)
            except X12Error as exc:
                where = Location(interchange.position + offset, "TA1", exc.location.element)
                _fail(report, "024", str(where))
    trailer = interchange.trailer
    if trailer is None:
        _fail(report, "023", f"segment {interchange.position} (ISA): no IEA closes it")
    else:
        if trailer.get(2) != header.get(13):
            _fail(report, "001", "IEA element 02")
        if not _counts(trailer.get(1), len(interchange.groups)):
            _fail(report, "021", "IEA element 01")
    seen: set[str] = set()
    for group in interchange.groups:
        report.groups.append(_check_group(group, functional_ids, seen, report))
    return report


def _fail(report: InterchangeReport, note: str, where: str) -> None:
    if report.ta1_code == "000":
        report.ta1_code = note
    report.envelope_errors.append((where, TA1_CODES[note]))


def _check_group(
    group: FunctionalGroup,
    functional_ids: frozenset[str],
    seen: set[str],
    interchange: InterchangeReport,
) -> GroupReport:
    header = group.header
    report = GroupReport(
        functional_id=group.functional_id,
        control_number=group.control_number,
        version=group.version,
        position=group.position,
    )
    where = f"segment {group.position} (GS)"
    shape = (
        len(header) >= 8
        and 1 <= len(header.get(2)) <= 15
        and 1 <= len(header.get(3)) <= 15
        and valid_date(header.get(4))
        and valid_time(header.get(5))
        and header.get(7) == "X"
    )
    if not shape:
        _fail(interchange, "024", where)
    if group.functional_id not in functional_ids:
        report.codes.append("1")
    if not group.version.startswith("00501"):
        report.codes.append("2")
    if not _numeric(1, 9)(group.control_number):
        report.codes.append("6")
    elif group.control_number in seen:
        report.codes.append("19")
    seen.add(group.control_number)
    trailer = group.trailer
    if trailer is None:
        report.codes.append("3")
    else:
        if trailer.get(2) != group.control_number:
            report.codes.append("4")
        if not _counts(trailer.get(1), len(group.transactions)):
            report.codes.append("5")
    numbers: set[str] = set()
    for transaction in group.transactions:
        report.transactions.append(check_transaction_envelope(transaction, numbers))
    return report


def check_transaction_envelope(transaction: TransactionSet, seen: set[str]) -> TransactionReport:
    """IK5 codes for the ST/SE pair; the segments inside are judged against their spec."""
    header = transaction.header
    report = TransactionReport(
        set_id=transaction.set_id,
        control_number=transaction.control_number,
        reference=transaction.reference,
        position=transaction.position,
    )
    set_id = transaction.set_id
    if not _numeric(3, 3)(set_id):
        report.codes.append("6")
    number = transaction.control_number
    if not (4 <= len(number) <= 9 and number.isprintable()):
        report.codes.append("7")
    elif number in seen:
        report.codes.append("23")
    seen.add(number)
    trailer = transaction.trailer
    if trailer is None:
        report.codes.append("2")
    else:
        if trailer.get(2) != header.get(2):
            report.codes.append("3")
        if not _counts(trailer.get(1), len(transaction.segments)):
            report.codes.append("4")
    return report
