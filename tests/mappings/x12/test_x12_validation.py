"""Reading transactions into their loop trees, and segment and element errors located by
position, segment id, loop and element, in the 999's codes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mappings.x12 import Delimiters, Segment, read
from mappings.x12.findings import SegmentError
from mappings.x12.loop_tree import LoopNode, read_transaction
from mappings.x12.schema import N, R, S, TransactionSpec, an, loop, segment
from mappings.x12.specs import X217_REQUEST, X217_RESPONSE, X231_999
from mappings.x12.specs.common import hl

GOLDEN = Path(__file__).parent / "golden"
VALID = (GOLDEN / "prior-authorization.278.x12").read_bytes()
DEPENDENT = (GOLDEN / "dependent-limits.278.x12").read_bytes()


def _errors(data: bytes) -> list[SegmentError]:
    [checked] = read(data)
    return [e for t in checked.report.groups[0].transactions for e in t.errors]


def _shape(node: LoopNode) -> list[object]:
    return [_shape(i) if isinstance(i, LoopNode) else i.segment.id for i in node.items]


def test_request_reads_into_its_loop_tree() -> None:
    [checked] = read(VALID)
    [transaction] = checked.transactions
    assert transaction.spec is X217_REQUEST
    assert transaction.tree is not None
    assert _shape(transaction.tree) == [
        "ST",
        "BHT",
        [
            "HL",
            ["NM1"],
            [
                "HL",
                ["NM1"],
                [
                    "HL",
                    ["NM1", "REF", "REF", "DMG"],
                    ["HL", "TRN", "UM", "DTP", "HI", ["NM1"], ["NM1"], ["HL", "TRN", "DTP", "SV1"]],
                ],
            ],
        ],
        "SE",
    ]


def test_a_dependent_patient_event_hangs_under_2000d() -> None:
    [checked] = read(DEPENDENT)
    tree = checked.transactions[0].tree
    assert tree is not None
    dependent = next(tree.find_loops("2000D"))
    assert [n.id for n in dependent.loops("2000E")] == ["2000E"]
    event = dependent.loops("2000E")[0]
    assert len(event.loops("2000F")) == 3
    assert len(event.segments("PWK")) == 10
    assert event.segment("REF") is None


def test_response_and_acknowledgment_find_their_own_specs() -> None:
    [response] = read((GOLDEN / "response-approved.x12").read_bytes())
    assert response.transactions[0].spec is X217_RESPONSE
    [ack] = read((GOLDEN / "invalid-278.999.x12").read_bytes())
    assert ack.transactions[0].spec is X231_999
    assert ack.accepted


def test_qualified_siblings_may_come_in_any_order() -> None:
    swapped = VALID.replace(
        b"REF*6P*GRP-4410~\nREF*EJ*MRN-000123~", b"REF*EJ*MRN-000123~\nREF*6P*GRP-4410~"
    )
    assert swapped != VALID
    assert _errors(swapped) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"DMG*D8*19610412*F", b"DMG*D8*19610412*X", ("DMG", 11, "2010C", "8", [(3, "7", "1068")])),
        (b"DMG*D8*19610412*F", b"DMG*D8*1961*F", ("DMG", 11, "2010C", "8", [(2, "8", "1251")])),
        (
            b"BHT*0007*13*case-0001*20261120*1403",
            b"BHT*0007*13*case-0001*20261120*2503",
            ("BHT", 2, "ST", "8", [(5, "9", "337")]),
        ),
        (
            b"NM1*X3*2*Acme Health Plan",
            b"NM1*X3*2*" + b"A" * 61,
            ("NM1", 4, "2010A", "8", [(3, "5", "1035")]),
        ),
        (b"UM*HS*I*2*22:B**E", b"UM*HS*I*2*22:Q**E", ("UM", 14, "2000E", "8", [(4, "7", "1332")])),
        (
            b"UM*HS*I*2*22:B**E",
            b"UM*HS*I*2*22:B:X:Y**E",
            ("UM", 14, "2000E", "8", [(4, "13", "C023"), (4, "I10", "")]),
        ),
        (
            b"SV1*HC:27447:RT**UN*1",
            b"SV1*HC:27447:RT**UN*1A",
            ("SV1", 22, "2000F", "8", [(4, "6", "380")]),
        ),
        (
            b"SV1*HC:27447:RT**UN*1",
            b"SV1*HC:27447:RT**UN",
            ("SV1", 22, "2000F", "8", [(4, "2", "380")]),
        ),
        (
            b"DTP*472*D8*20261214",
            b"DTP*472*D8*20261214*X",
            ("DTP", 21, "2000F", "8", [(4, "3", "")]),
        ),
        (b"HL*1**20*1", b"HL*1*9*20*1", ("HL", 3, "2000A", "8", [(2, "I10", "734")])),
        (b"REF*6P*GRP-4410", b"REF*6P*GRP-4410^X", ("REF", 9, "2010C", "8", [(2, "12", "127")])),
    ],
)
def test_element_errors_are_located(old: bytes, new: bytes, expected: tuple[object, ...]) -> None:
    data = VALID.replace(old, new)
    assert data != VALID
    [error] = _errors(data)
    elements = [(e.position, e.code, e.ref) for e in error.elements]
    assert (error.segment_id, error.position, error.loop, error.code, elements) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"HI*ABK:M1711~\n", b"HI*ABK:M1711~\nXYZ*1~\n", [("XYZ", 17, "6")]),
        (b"HI*ABK:M1711~\n", b"HI*ABK:M1711~\nBHT*0007~\n", [("BHT", 17, "2")]),
        (b"DMG*D8*19610412*F~\n", b"DMG*D8*19610412*F~\nDMG*D8*19610412*F~\n", [("DMG", 12, "5")]),
        (b"UM*HS*I*2*22:B**E~\n", b"", [("UM", 14, "3")]),
        (b"NM1*X3*2*Acme Health Plan*****PI*ACMEHP~\n", b"", [("NM1", 4, "3")]),
        (b"HI*ABK:M1711~\n", b"HI*ABK:M1711~\nHI*ABK:M1711~\n", [("HI", 17, "5")]),
    ],
)
def test_segment_errors_are_located(
    old: bytes, new: bytes, expected: list[tuple[str, int, str]]
) -> None:
    data = VALID.replace(old, new)
    assert data != VALID
    assert [(e.segment_id, e.position, e.code) for e in _errors(data)] == expected


def test_a_loop_over_its_maximum_is_reported_at_its_first_segment() -> None:
    event = VALID[VALID.index(b"HL*4*3*EV") : VALID.index(b"SE*")]
    twice = VALID.replace(
        event, event + event.replace(b"HL*4*", b"HL*6*").replace(b"HL*5*4", b"HL*7*6")
    )
    errors = _errors(twice)
    assert [(e.segment_id, e.code, e.loop) for e in errors if e.code != "8"] == [
        ("HL", "4", "2000E")
    ]


def test_located_errors_name_positions_never_values() -> None:
    data = VALID.replace(b"*MI*W123456789", b"*MI*W123456789" + b"9" * 80)
    [checked] = read(data)
    located = list(checked.located_errors())
    assert located == [
        (
            "transaction set 278 at segment 3: segment 8 (NM1, loop 2010C) element 09",
            "data element too long",
        )
    ]
    assert "W123456789" not in repr(located)


REMITTANCE = (GOLDEN / "remittance.835.x12").read_bytes()


def test_a_remittance_reads_claims_and_service_lines() -> None:
    [checked] = read(REMITTANCE)
    assert checked.accepted
    tree = checked.transactions[0].tree
    assert tree is not None
    claims = list(tree.find_loops("2100"))
    assert [clp.get(2) for c in claims if (clp := c.segment("CLP"))] == ["1", "4"]
    assert [len(c.loops("2110")) for c in claims] == [1, 1]
    assert [n.get(1) for n in claims[0].segments("NM1")] == ["QC", "82"]
    assert len(tree.segments("PLB")) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"CAS*CO*50*350.00~\nNM1", b"CAS*XX*50*350.00~\nNM1", ("CAS", 28, "2100", [(1, "7")])),
        (b"CAS*PR*1*200.00", b"CAS*PR*1*200.00**45", ("CAS", 24, "2110", [(6, "2")])),
        (b"CLP*PATIENTACCOUNT0002*4", b"CLP*PATIENTACCOUNT0002*9", ("CLP", 27, "2100", [(2, "7")])),
        (
            b"PLB*1860913908*20261231*WO:",
            b"PLB*1860913908*20261331*WO:",
            ("PLB", 35, "ST", [(2, "8")]),
        ),
    ],
)
def test_remittance_errors_are_located(
    old: bytes, new: bytes, expected: tuple[object, ...]
) -> None:
    data = REMITTANCE.replace(old, new)
    assert data != REMITTANCE
    [error] = _errors(data)
    assert (
        error.segment_id,
        error.position,
        error.loop,
        [(e.position, e.code) for e in error.elements],
    ) == expected


def test_a_loop_copied_with_more_children_reads_them_by_their_own_descriptions() -> None:
    """Specs extend loops with `dataclasses.replace`; the copy must not reuse the lookup
    tables of the loop it came from, or a dependent's HL would be judged as a subscriber's."""
    subscriber = loop("2000C", "Subscriber", R, 1, hl("22", parent=N))
    dependent = loop("2000D", "Dependent", S, 1, hl("23"))
    extended = replace(subscriber, children=(*subscriber.children, dependent))
    header = segment("ST", "Header", R, 1, 2, an("143", 3, 3), an("329", 4, 9))
    trailer = segment("SE", "Trailer", R, 1, 2, an("96", 1, 10), an("329", 4, 9))
    spec = TransactionSpec(
        "999", "TEST", "Test", "FA", loop("ST", "Set", R, 1, header, extended, trailer)
    )
    texts = ["ST*999*0001", "HL*1**22*1", "HL*2*1*23*0", "SE*4*0001"]
    segments = [Segment(text.split("*"), Delimiters()) for text in texts]
    tree, errors = read_transaction(spec, segments)
    assert errors == []
    assert _shape(tree) == ["ST", ["HL", ["HL"]], "SE"]
