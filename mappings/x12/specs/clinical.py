"""Segments that describe care: diagnoses, services, review outcomes, certifications.

Shared by the transactions that carry clinical content (278 now; 837 claims reuse HI, SV1,
SV2, PWK). Segments casegate passes through without reading (ambulance, spinal, oxygen and
home health certifications) are described only by their element count.
"""

from __future__ import annotations

from mappings.x12.schema import (
    Composite,
    R,
    S,
    SegmentSpec,
    Usage,
    an,
    code,
    composite,
    dec,
    num,
    rule,
    segment,
)
from mappings.x12.specs.common import loose, procedure


def _diagnosis(usage: Usage = R) -> Composite:
    return composite(
        "C022",
        code("1270", 1, 3, "ABF ABJ ABK ABN BF BJ BK BN DR LD PR"),
        an("1271", 1, 30),
        code("1250", 2, 3, "D8", S),
        an("1251", 1, 35, S),
        usage=usage,
    )


HI = segment("HI", "Patient diagnosis", S, 1, 12, _diagnosis(), *(_diagnosis(S) for _ in range(11)))
HSD = segment(
    "HSD",
    "Health care services delivery",
    S,
    1,
    8,
    code("673", 2, 2, "DY FL HS MN VS", S),
    dec("380", 1, 15, S),
    code("355", 2, 2, None, S),
    dec("1167", 1, 6, S),
    code("615", 1, 2, None, S),
    num("616", 1, 3, S),
    code("678", 1, 1, None, S),
    code("679", 1, 1, None, S),
    rules=(rule("P", 1, 2), rule("C", 6, 5)),
)
PWK = segment(
    "PWK",
    "Additional information",
    S,
    10,
    9,
    code("755", 2, 2),
    code("756", 1, 2, "BM EL EM FT FX"),
    None,
    None,
    code("66", 1, 2, "AC", S),
    an("67", 2, 80, S),
    an("352", 1, 80, S),
    rules=(rule("P", 5, 6),),
)


def um(*, usage: Usage = S, service_type: Usage = S) -> SegmentSpec:
    return segment(
        "UM",
        "Health care services review information",
        usage,
        1,
        10,
        code("1525", 1, 2, "AR HS SC"),
        code("1322", 1, 1, "1 2 3 4 I S"),
        code("1365", 1, 2, None, service_type),
        composite("C023", an("1331", 1, 2), code("1332", 1, 2, "A B"), None, usage=S),
        composite(
            "C024",
            code("1362", 2, 3, "AA EM OA"),
            code("1362", 2, 3, "AA EM OA", S),
            code("1362", 2, 3, "AA EM OA", S),
            code("156", 2, 2, None, S),
            code("26", 2, 3, None, S),
            usage=S,
        ),
        code("1338", 1, 2, "03 E U", S),
        code("1213", 1, 1, None, S),
        code("923", 1, 1, None, S),
        code("1363", 1, 1, None, S),
    )


HCR = segment(
    "HCR",
    "Health care services review",
    S,
    1,
    4,
    code("306", 1, 2, "A1 A2 A3 A4 A6 C CT NA"),
    an("127", 1, 50, S),
    code("901", 2, 2, None, S),
    code("1073", 1, 1, "N Y", S),
)


SV1 = segment(
    "SV1",
    "Professional service",
    S,
    1,
    21,
    procedure("HC IV N4 ZZ"),
    dec("782", 1, 18, S),
    code("355", 2, 2, "MJ UN", S),
    dec("380", 1, 15, S),
    None,
    None,
    composite("C004", num("1328", 1, 2), num("1328", 1, 2, S), num("1328", 1, 2, S), usage=S),
    None,
    None,
    None,
    code("1073", 1, 1, "N Y", S),
    *([None] * 8),
    code("1337", 1, 1, None, S),
    rules=(rule("P", 3, 4),),
)
SV2 = segment(
    "SV2",
    "Institutional service line",
    S,
    1,
    10,
    an("234", 1, 48, S),
    procedure("HC HP IV N4 ZZ", S),
    dec("782", 1, 18, S),
    code("355", 2, 2, "DA UN", S),
    dec("380", 1, 15, S),
    dec("1371", 1, 10, S),
    None,
    None,
    code("1345", 1, 1, None, S),
    code("1337", 1, 1, None, S),
    rules=(rule("R", 1, 2), rule("P", 4, 5)),
)
SV3 = segment(
    "SV3",
    "Dental service",
    S,
    1,
    11,
    procedure("AD CD"),
    dec("782", 1, 18, S),
    None,
    composite(
        "C006",
        code("1361", 1, 3),
        *(code("1361", 1, 3, None, S) for _ in range(4)),
        usage=S,
    ),
    code("1358", 1, 1, None, S),
    dec("380", 1, 15),
    an("352", 1, 80, S),
)
TOO = segment(
    "TOO",
    "Tooth information",
    S,
    32,
    3,
    code("1270", 1, 3, "JP"),
    an("1271", 1, 30),
    composite(
        "C005",
        code("1369", 1, 2),
        *(code("1369", 1, 2, None, S) for _ in range(4)),
        usage=S,
    ),
)
CRC = segment(
    "CRC",
    "Certification conditions",
    S,
    7,
    7,
    code("1136", 2, 2),
    code("1073", 1, 1, "N Y"),
    code("1321", 2, 3),
    *(code("1321", 2, 3, None, S) for _ in range(4)),
)
CL1 = segment("CL1", "Institutional claim code", S, 1, 4, *loose(4))
CR1 = segment("CR1", "Ambulance transport information", S, 1, 10, *loose(10))
CR2 = segment("CR2", "Spinal manipulation information", S, 1, 12, *loose(12))
CR5 = segment("CR5", "Home oxygen therapy information", S, 1, 18, *loose(18))
CR6 = segment("CR6", "Home health care information", S, 1, 21, *loose(21))
