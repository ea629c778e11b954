"""The codec: delimiters from MSH, the tree, escapes, sloppy senders, located errors."""

from __future__ import annotations

import pytest

from mappings.hl7v2 import Hl7CodecError, Location, Message, Segment, parse, serialize
from mappings.hl7v2.codec import components, repeated
from mappings.hl7v2.errors import ErrorCode

MSH = b"MSH|^~\\&|EHR|HOSP|CG|CG|20261120||ORM^O01|C1|P|2.5.1"


def message(*segments: bytes, end: bytes = b"\r") -> bytes:
    return end.join((MSH, *segments)) + end


def test_fields_repetitions_components_subcomponents() -> None:
    parsed = parse(message(b"PID|1||MRN1^^^H&1.2.3&ISO^MR~SSN9^^^SSA^SS||Doe^Jane"))
    pid = parsed.segments[1]
    assert pid.id == "PID"
    assert pid.field(3) == (
        (("MRN1",), (), (), ("H", "1.2.3", "ISO"), ("MR",)),
        (("SSN9",), (), (), ("SSA",), ("SS",)),
    )
    assert pid.value(3, 4, 2) == "1.2.3"
    assert pid.value(3, 1, rep=2) == "SSN9"
    assert pid.value(5, 2) == "Jane"
    assert pid.value(5, 3) == pid.value(40) == pid.value(3, 1, rep=3) == ""


def test_msh_fields_keep_standard_numbering() -> None:
    msh = parse(message()).header
    assert msh.value(1) == "|"
    assert msh.value(2) == "^~\\&"
    assert msh.value(9, 2) == "O01"
    assert msh.value(12) == "2.5.1"


def test_other_delimiters_are_read_from_msh() -> None:
    data = b"MSH#:*@%#EHR#HOSP####ORM:O01#C9#P#2.7\rPID#1##A:B*C:D%x\r"
    parsed = parse(data)
    assert parsed.delimiters.encoding_characters == ":*@%"
    assert parsed.segments[1].field(3) == ((("A",), ("B",)), (("C",), ("D", "x")))
    assert serialize(parsed) == data


def test_escapes_decode_to_the_characters_they_stand_for() -> None:
    parsed = parse(message(rb"NTE|1||a\F\b\S\c\T\d\R\e\E\f\X0D0A\g\.br\h"))
    assert parsed.segments[1].value(3) == "a|b^c&d~e\\f\r\ng\nh"


def test_truncation_escape_exists_only_when_declared() -> None:
    declared = parse(b"MSH|^~\\&#|A\rNTE|1||x\\P\\y\r")
    assert declared.segments[1].value(3) == "x#y"
    undeclared = parse(message(rb"NTE|1||x\P\y"))
    assert undeclared.segments[1].value(3) == "x\\P\\y"


def test_unknown_and_unterminated_escapes_stay_as_sent() -> None:
    parsed = parse(message(rb"NTE|1||C:\docs\plan.pdf|\H\bold\N\|lone\ "))
    assert parsed.segments[1].value(3) == "C:\\docs\\plan.pdf"
    assert parsed.segments[1].value(4) == "\\H\\bold\\N\\"
    assert parsed.segments[1].value(5) == "lone\\ "


def test_serializer_escapes_what_would_break_the_message() -> None:
    msh = parse(message()).header
    tricky = "a|b^c&d~e\\f\rg\nh\x0bi\x1cj"
    built = Message((msh, Segment.of("NTE", "1", "", tricky)))
    data = serialize(built)
    assert data.count(b"\r") == 2  # only the two segment ends
    assert b"\x0b" not in data and b"\x1c" not in data
    assert parse(data).segments[1].value(3) == tricky


def test_trailing_empty_parts_carry_no_meaning() -> None:
    assert parse(message(b"PID|1|A^^~||")) == parse(message(b"PID|1|A"))
    assert Segment.of("PID", "1", components("A", "", "")) == parse(message(b"PID|1|A")).segments[1]
    assert repeated((("A",),), ()) == ((("A",),),)


def test_sloppy_segment_ends_and_framing_are_counted_not_refused() -> None:
    clean = parse(message(b"PID|1", b"PV1|1"))
    crlf = parse(b"\x0b" + message(b"PID|1", b"PV1|1", end=b"\r\n") + b"\x1c\r")
    lf = parse(b"\x0b\x0b" + message(b"PID|1", b"", b"PV1|1", end=b"\n") + b"\x1c\x1c\r")
    assert crlf == lf == clean
    assert not clean.tolerated
    assert crlf.tolerated.crlf_segment_ends == 3
    assert crlf.tolerated.framing_bytes == 0
    assert lf.tolerated.lf_segment_ends == 4
    assert lf.tolerated.blank_lines == 1
    assert lf.tolerated.framing_bytes == 2


def test_stray_framing_inside_a_message_is_dropped_and_counted() -> None:
    parsed = parse(message(b"PID|1|\x1cA", b"\x0bPV1|1"))
    assert parsed.segments[1].value(2) == "A"
    assert parsed.segments[2].id == "PV1"
    assert parsed.tolerated.framing_bytes == 2


def test_declared_character_set_decodes_text() -> None:
    latin = parse(MSH + b"||||||8859/1\rPID|1||||M\xfcller^J\xf6rg\r")
    assert latin.segments[1].value(5) == "Müller"
    assert serialize(latin).endswith(b"M\xfcller^J\xf6rg\r")
    utf8 = parse(MSH + b"||||||UNICODE UTF-8\rPID|1||||M\xc3\xbcller\r")
    assert utf8.segments[1].value(5) == "Müller"


def test_undeclared_8bit_text_is_read_as_latin1_and_reported() -> None:
    parsed = parse(message(b"PID|1||||M\xfcller"))
    assert parsed.segments[1].value(5) == "Müller"
    assert parsed.tolerated.undeclared_8bit_text


@pytest.mark.parametrize(
    ("data", "where", "code"),
    [
        (b"", Location(), ErrorCode.segment_sequence),
        (b"PID|1\rMSH|^~\\&|A\r", Location(), ErrorCode.segment_sequence),
        (b"MSH|^~\r", Location(), ErrorCode.segment_sequence),
        (b"MSH|^~\\\\|A\r", Location("MSH", 1, 1, 2), ErrorCode.data_type),
        (b"MSH|^~\\A|A\r", Location("MSH", 1, 1, 2), ErrorCode.data_type),
        (b"MSH|^~|&|A\r", Location("MSH", 1, 1, 2), ErrorCode.data_type),
        (MSH + b"||||||KLINGON\r", Location("MSH", 1, 1, 18), ErrorCode.table_value_not_found),
        (message(b"PID|1", b"pv1|1"), Location(segment_index=3), ErrorCode.segment_sequence),
        (message(b"PID|1", b"PV1X|1"), Location(segment_index=3), ErrorCode.segment_sequence),
        (
            message(b"PID|1", b"NTE|1||ok|a^b&\\X4\\"),
            Location("NTE", 3, 1, 4, 1, 2, 2),
            ErrorCode.data_type,
        ),
        (
            message(b"NTE|1|\\XZZ\\"),
            Location("NTE", 2, 1, 2, 1, 1, 1),
            ErrorCode.data_type,
        ),
        (
            MSH + b"||||||UNICODE UTF-8\rPID|1||x|\xff\r",
            Location("PID", 2, field=4),
            ErrorCode.data_type,
        ),
        (
            message(b"MSH|#~\\&|other"),
            Location("MSH", 2, 2),
            ErrorCode.data_type,
        ),
    ],
)
def test_unreadable_input_is_a_located_codec_error(
    data: bytes, where: Location, code: ErrorCode
) -> None:
    with pytest.raises(Hl7CodecError) as caught:
        parse(data)
    issue = caught.value.issues[0]
    assert issue.location == where
    assert issue.code is code


def test_error_text_never_quotes_the_message() -> None:
    with pytest.raises(Hl7CodecError) as caught:
        parse(message(b"PID|1||Zq-Jane-Doe\\X4\\"))
    assert "Zq-Jane-Doe" not in str(caught.value)
    assert str(caught.value).startswith("segment 2 PID-3")


def test_a_20_mb_field_parses() -> None:
    big = b"A" * (20 * 1024 * 1024)
    parsed = parse(message(b"OBX|1|ED|DOC||^AP^PDF^Base64^" + big))
    assert len(parsed.segments[1].value(5, 5)) == len(big)
