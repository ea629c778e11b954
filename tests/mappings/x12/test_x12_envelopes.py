"""Envelopes: control numbers and counts built right and checked, each fault earning the TA1
note or the AK9/IK5 code a clearinghouse would send."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mappings.x12 import (
    Delimiters,
    Group,
    InterchangeHeader,
    Party,
    Transaction,
    X12Error,
    build,
    build_999,
    build_interchange,
    build_ta1,
    parse_interchanges,
    read,
    read_ta1,
    ta1_for_unreadable,
)
from mappings.x12.validation import CheckedInterchange

GOLDEN = Path(__file__).parent / "golden"
VALID = (GOLDEN / "prior-authorization.278.x12").read_bytes()
CREATED = datetime(2026, 11, 20, 14, 10)


def _one(data: bytes) -> CheckedInterchange:
    [checked] = read(data)
    return checked


def test_built_envelopes_count_what_they_hold() -> None:
    d = Delimiters()
    body = [build("BHT", "0007", "13", "x", "20261120", "1403", delimiters=d)] * 3
    header = InterchangeHeader(Party("ME", "ZZ", "MYAPP"), Party("YOU", "30"), 42, CREATED)
    groups = [
        Group(
            "HI",
            "005010X217",
            7,
            [Transaction("278", "0001", body), Transaction("278", "0002", body)],
        ),
        Group("HI", "005010X217", 8, [Transaction("278", "0001", body)]),
    ]
    interchange = build_interchange(header, groups)
    text = interchange.to_bytes().decode()
    assert text.startswith(
        "ISA*00*          *00*          *ZZ*ME             *30*YOU            "
        "*261120*1410*^*00501*000000042*0*T*:~GS*HI*MYAPP*YOU*20261120*1410*7*X*005010X217~"
    )
    assert "SE*5*0002~GE*2*7~" in text
    assert text.endswith("GE*1*8~IEA*2*000000042~")
    assert interchange.sender == ("ZZ", "ME")
    assert [len(g.transactions) for g in interchange.groups] == [2, 1]


@pytest.mark.parametrize("number", [0, 1_000_000_000])
def test_control_numbers_are_nine_digits(number: int) -> None:
    header = InterchangeHeader(Party("ME"), Party("YOU"), number, CREATED)
    with pytest.raises(X12Error) as caught:
        build_interchange(header, [])
    assert caught.value.location.segment_id == "ISA"


def test_ids_longer_than_the_isa_field_are_refused() -> None:
    header = InterchangeHeader(Party("A-SENDER-ID-THAT-IS-LONG"), Party("YOU"), 1, CREATED)
    with pytest.raises(X12Error) as caught:
        build_interchange(header, [])
    assert str(caught.value.location) == "ISA element 06"


def test_a_valid_interchange_is_accepted() -> None:
    checked = _one(VALID)
    assert checked.accepted
    assert checked.report.ta1_code == "000"
    assert [g.status for g in checked.report.groups] == ["A"]


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        (b"*ZZ*CASEGATE", b"*QQ*CASEGATE", "005"),
        (b"*261120*1403*", b"*261320*1403*", "014"),
        (b"*261120*1403*", b"*261120*2503*", "015"),
        (b"*00501*", b"*00401*", "017"),
        (b"*000000017*0*T", b"*000000017*2*T", "019"),
        (b"*000000017*0*T", b"*000000017*0*X", "020"),
        (b"IEA*1*000000017", b"IEA*1*000000018", "001"),
        (b"IEA*1*000000017", b"IEA*2*000000017", "021"),
        (b"IEA*1*000000017~\n", b"", "023"),
        (b"GE*1*17~\n", b"GE*1*17~\nNM1*X3~\n", "024"),
        (b"IEA*1*000000017~\n", b"IEA*1*000000017~\nGS*HI~\n", "022"),
        (b"GS*HI*", b"TA1*000000017*261120*1403*Q*000~\nGS*HI*", "024"),
    ],
)
def test_envelope_faults_earn_their_ta1_note(old: bytes, new: bytes, note: str) -> None:
    checked = _one(VALID.replace(old, new))
    assert checked.report.ta1_code == note
    ta1 = build_ta1(checked.interchange, note, control_number=5, created=CREATED)
    [answer] = parse_interchanges(ta1.to_bytes())
    acknowledgment = read_ta1(answer.acknowledgments[0])
    assert (acknowledgment.control_number, acknowledgment.status, acknowledgment.note_code) == (
        checked.interchange.control_number,
        "R",
        note,
    )
    assert answer.groups == [] and answer.trailer is not None and answer.trailer.get(1) == "0"


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        (b"GE*1*17", b"GE*2*17", ["5"]),
        (b"GE*1*17", b"GE*1*18", ["4"]),
        (b"GE*1*17~\n", b"", ["3"]),
        (b"*1403*17*X*005010X217", b"*1403*1A*X*005010X217", ["6", "4"]),
        (b"GS*HI*", b"GS*IN*", ["1"]),
        (b"*X*005010X217~\nST", b"*X*004010X094~\nST", ["2"]),
    ],
)
def test_group_faults_earn_their_ak9_codes(old: bytes, new: bytes, codes: list[str]) -> None:
    checked = _one(VALID.replace(old, new))
    assert checked.report.ta1_code == "000"
    assert checked.report.groups[0].codes == codes
    assert checked.report.groups[0].status == "R"
    ack = build_999(checked, control_number=5, created=CREATED).to_bytes().decode()
    assert f"AK9*R*1*1*1*{'*'.join(codes)}~" in ack


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        (b"SE*23*0001", b"SE*22*0001", ["4"]),
        (b"SE*23*0001", b"SE*23*0002", ["3"]),
        (b"ST*278*0001*005010X217", b"ST*279*0001*005010X217", ["1"]),
        (b"ST*278*0001*005010X217", b"ST*278*0001*005010X216", ["I6"]),
        (b"ST*278*0001*005010X217", b"ST*27A*0001*005010X217", ["6"]),
        (b"ST*278*0001*005010X217", b"ST*278*01*005010X217", ["7", "3", "5"]),
    ],
)
def test_transaction_set_faults_earn_their_ik5_codes(
    old: bytes, new: bytes, codes: list[str]
) -> None:
    checked = _one(VALID.replace(old, new))
    [transaction] = checked.report.groups[0].transactions
    assert transaction.codes == codes
    ack = build_999(checked, control_number=5, created=CREATED).to_bytes().decode()
    assert f"IK5*R*{'*'.join(codes)}~" in ack
    assert "AK9*R*1*1*0~" in ack


def test_a_missing_trailer_and_a_duplicate_control_number_in_one_group() -> None:
    start = VALID.index(b"ST*278")
    end = VALID.index(b"GE*1*17")
    transaction = VALID[start:end]
    broken = transaction.replace(b"SE*23*0001~\n", b"")
    data = VALID[:start] + broken + transaction + b"GE*2*17~\nIEA*1*000000017~\n"
    checked = _one(data)
    first, second = checked.report.groups[0].transactions
    assert first.codes[:1] == ["2"]
    assert second.codes[:1] == ["23"]
    assert checked.report.groups[0].codes == []


def test_999_for_a_partly_accepted_group_says_p() -> None:
    start = VALID.index(b"ST*278")
    end = VALID.index(b"GE*1*17")
    good = VALID[start:end]
    bad = good.replace(b"0001", b"0002").replace(b"UM*HS*", b"UM*XX*")
    data = VALID[:start] + good + bad + b"GE*2*17~\nIEA*1*000000017~\n"
    ack = build_999(_one(data), control_number=5, created=CREATED).to_bytes().decode()
    assert "AK2*278*0001*005010X217~IK5*A~" in ack
    assert "AK2*278*0002*005010X217~IK3*UM*14*2000*8~IK4*1*1525*7~IK5*R*5~" in ack
    assert "AK9*P*2*2*1~" in ack


def test_an_isa13_that_is_no_number_cannot_be_answered() -> None:
    checked = _one(VALID.replace(b"*000000017*0*T", b"*00000001A*0*T"))
    assert checked.report.ta1_code == "018"
    with pytest.raises(X12Error) as caught:
        build_ta1(checked.interchange, "018", control_number=5, created=CREATED)
    assert str(caught.value.location) == "TA1 element 01"


def test_unreadable_bytes_with_a_readable_isa_still_get_a_ta1() -> None:
    data = VALID.replace(b"GS*HI", b"gs*HI")
    answer = ta1_for_unreadable(data, "024", control_number=3, created=CREATED)
    assert answer is not None
    [interchange] = parse_interchanges(answer)
    assert interchange.receiver == ("ZZ", "CASEGATE")
    assert read_ta1(interchange.acknowledgments[0]).note_code == "024"
    assert ta1_for_unreadable(b"not x12 at all", "024", control_number=3, created=CREATED) is None
    assert ta1_for_unreadable(VALID[:80], "023", control_number=3, created=CREATED) is None
