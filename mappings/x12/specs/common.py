"""Segment descriptions that several transactions share, parameterized by what differs.

The element reference numbers are those of the X12 data element dictionary; code lists are
given where the list is short and public, and left open (None) where it is an external list
(service types, reason codes, states) that changes on its own schedule.
"""

from __future__ import annotations

from mappings.x12.schema import (
    UNBOUNDED,
    Composite,
    DateFormat,
    Element,
    R,
    S,
    SegmentSpec,
    Usage,
    an,
    code,
    composite,
    dt,
    num,
    rule,
    segment,
    tm,
)

MANY = UNBOUNDED
PROVIDER_ID_QUALIFIERS = "24 34 46 XX"
PROVIDER_CODES = "AD AT CO CV H HH LA OT P1 P2 PC PE R RF SB SK SU"
PROVIDER_REF_QUALIFIERS = "0B 1G 1J EI N5 N7 SY ZH"


def loose(size: int) -> tuple[Element, ...]:
    """Elements described only as present-or-not, for segments casegate passes through."""
    return tuple(an("", 1, 264, S) for _ in range(size))


def procedure(qualifiers: str | None, usage: Usage = R, *, described: bool = True) -> Composite:
    """C003, a procedure code and its modifiers; `described` when the guide uses C003-07."""
    return composite(
        "C003",
        code("235", 2, 2, qualifiers),
        an("234", 1, 48),
        *(an("1339", 2, 2, S) for _ in range(4)),
        *((an("352", 1, 80, S),) if described else ()),
        usage=usage,
    )


def st(set_id: str, reference: str) -> SegmentSpec:
    return segment(
        "ST",
        "Transaction set header",
        R,
        1,
        3,
        code("143", 3, 3, set_id),
        an("329", 4, 9),
        code("1705", 1, 35, reference),
    )


SE = segment("SE", "Transaction set trailer", R, 1, 2, num("96", 1, 10), an("329", 4, 9))


def bht(
    structure: str, purposes: str, type_codes: str | None = None, type_usage: Usage = S
) -> SegmentSpec:
    return segment(
        "BHT",
        "Beginning of hierarchical transaction",
        R,
        1,
        6,
        code("1005", 4, 4, structure),
        code("353", 2, 2, purposes),
        an("127", 1, 50),
        dt("373"),
        tm("337"),
        code("640", 2, 2, type_codes, type_usage),
    )


def hl(level: str, *, parent: Usage = R, children: str = "0 1") -> SegmentSpec:
    return segment(
        "HL",
        f"Hierarchical level {level}",
        R,
        1,
        4,
        an("628", 1, 12),
        an("734", 1, 12, parent),
        code("735", 1, 2, level),
        code("736", 1, 1, children),
        match=3,
    )


def nm1(
    name: str,
    entities: str,
    *,
    types: str = "1 2",
    qualifiers: str | None = PROVIDER_ID_QUALIFIERS,
    usage: Usage = R,
    id_usage: Usage = S,
    max_use: int = 1,
) -> SegmentSpec:
    identified = qualifiers is not None
    return segment(
        "NM1",
        name,
        usage,
        max_use,
        12,
        code("98", 2, 3, entities),
        code("1065", 1, 1, types),
        an("1035", 1, 60, S),
        an("1036", 1, 35, S),
        an("1037", 1, 25, S),
        an("1038", 1, 10, S),
        an("1039", 1, 10, S),
        code("66", 1, 2, qualifiers, id_usage if identified else Usage.not_used),
        an("67", 2, 80, id_usage if identified else Usage.not_used),
        rules=(rule("P", 8, 9),),
        match=1,
    )


def ref(name: str, qualifiers: str | None, *, usage: Usage = S, max_use: int = 1) -> SegmentSpec:
    return segment(
        "REF",
        name,
        usage,
        max_use,
        4,
        code("128", 2, 3, qualifiers),
        an("127", 1, 50),
        an("352", 1, 80, S),
        match=1 if qualifiers else 0,
    )


def dtp(
    name: str, qualifiers: str | None, formats: str = "D8", *, usage: Usage = S, max_use: int = 1
) -> SegmentSpec:
    return segment(
        "DTP",
        name,
        usage,
        max_use,
        3,
        code("374", 3, 3, qualifiers),
        code("1250", 2, 3, formats),
        an("1251", 1, 35),
        rules=(DateFormat(2, 3),),
        match=1 if qualifiers else 0,
    )


def trn(name: str, types: str, *, usage: Usage = S, max_use: int = 1) -> SegmentSpec:
    return segment(
        "TRN",
        name,
        usage,
        max_use,
        4,
        code("481", 1, 2, types),
        an("127", 1, 50),
        an("509", 10, 10),
        an("127", 1, 50, S),
    )


N3 = segment("N3", "Address", S, 1, 2, an("166", 1, 55), an("166", 1, 55, S))
N4 = segment(
    "N4",
    "City, state, ZIP code",
    S,
    1,
    7,
    an("19", 2, 30),
    code("156", 2, 2, None, S),
    an("116", 3, 15, S),
    code("26", 2, 3, None, S),
    None,
    None,
    code("1715", 1, 3, None, S),
)
PER = segment(
    "PER",
    "Contact information",
    S,
    1,
    9,
    code("366", 2, 2, "IC"),
    an("93", 1, 60, S),
    code("365", 2, 2, "EM EX FX TE UR", S),
    an("364", 1, 256, S),
    code("365", 2, 2, "EM EX FX TE UR", S),
    an("364", 1, 256, S),
    code("365", 2, 2, "EM EX FX TE UR", S),
    an("364", 1, 256, S),
    rules=(rule("P", 3, 4), rule("P", 5, 6), rule("P", 7, 8)),
)


def prv(name: str, codes: str = PROVIDER_CODES) -> SegmentSpec:
    return segment(
        "PRV",
        name,
        S,
        1,
        6,
        code("1221", 1, 3, codes),
        code("128", 2, 3, "PXC"),
        an("127", 1, 50),
    )


DMG = segment(
    "DMG",
    "Demographic information",
    S,
    1,
    11,
    code("1250", 2, 3, "D8"),
    an("1251", 1, 35),
    code("1068", 1, 1, "F M U", S),
    rules=(DateFormat(1, 2),),
)


def ins(relationships: str, *, birth_sequence: Usage = S) -> SegmentSpec:
    fields: list[Element | None] = [code("1073", 1, 1, "N Y"), code("1069", 2, 2, relationships)]
    fields += [None] * 14
    fields.append(num("1470", 1, 9, birth_sequence))
    return segment("INS", "Relationship", S, 1, 17, *fields)


MSG = segment("MSG", "Message text", S, 1, 3, an("933", 1, 264))
AAA = segment(
    "AAA",
    "Request validation",
    S,
    9,
    4,
    code("1073", 1, 1, "N Y"),
    None,
    code("901", 2, 2, None, S),
    code("889", 1, 1, "C N R W X Y", S),
)
