"""The 999 implementation acknowledgment, 005010X231A1.

One 999 answers one functional group: AK1 names the group, a 2000 loop (AK2 .. IK5) reports
each transaction set, 2100 (IK3) a segment in error, 2110 (IK4) an element in error, and AK9
sums up the group.
"""

from __future__ import annotations

from mappings.x12.findings import ELEMENT_CODES, GROUP_CODES, SEGMENT_CODES, TRANSACTION_CODES
from mappings.x12.schema import R, S, TransactionSpec, an, code, composite, loop, num, segment
from mappings.x12.specs.common import MANY, SE, st

REFERENCE = "005010X231A1"
FUNCTIONAL_IDS = "BE FA HB HC HI HN HP HR HS RA"
_IK4_CODES = " ".join([*ELEMENT_CODES, "I6", "I9", "I11", "I13"])


CTX = segment(
    "CTX",
    "Context",
    S,
    10,
    6,
    composite("C998", an("9999", 1, 35), an("1271", 1, 30, S)),
    an("721", 2, 3, S),
    num("719", 1, 10, S),
    an("447", 1, 4, S),
    composite("C030", num("722", 1, 2), num("1528", 1, 2, S), num("1686", 1, 4, S), usage=S),
    composite("C999", num("725", 1, 4), num("725", 1, 4, S), usage=S),
)

ACKNOWLEDGMENT = TransactionSpec(
    set_id="999",
    reference=REFERENCE,
    name="Implementation acknowledgment",
    functional_id="FA",
    root=loop(
        "ST",
        "Transaction set",
        R,
        1,
        st("999", REFERENCE),
        segment(
            "AK1",
            "Functional group response header",
            R,
            1,
            3,
            code("479", 2, 2, FUNCTIONAL_IDS),
            num("28", 1, 9),
            an("480", 1, 12),
        ),
        loop(
            "2000",
            "Transaction set response header",
            S,
            MANY,
            segment(
                "AK2",
                "Transaction set response header",
                R,
                1,
                3,
                code("143", 3, 3),
                an("329", 4, 9),
                an("1705", 1, 35, S),
            ),
            loop(
                "2100",
                "Error identification",
                S,
                MANY,
                segment(
                    "IK3",
                    "Error identification",
                    R,
                    1,
                    4,
                    an("721", 2, 3),
                    num("719", 1, 10),
                    an("447", 1, 4, S),
                    code("620", 1, 3, " ".join(SEGMENT_CODES), S),
                ),
                CTX,
                loop(
                    "2110",
                    "Implementation data element note",
                    S,
                    99,
                    segment(
                        "IK4",
                        "Implementation data element note",
                        R,
                        1,
                        4,
                        composite(
                            "C030", num("722", 1, 2), num("1528", 1, 2, S), num("1686", 1, 4, S)
                        ),
                        num("725", 1, 4, S),
                        code("621", 1, 3, _IK4_CODES),
                        an("724", 1, 99, S),
                    ),
                    CTX,
                ),
            ),
            segment(
                "IK5",
                "Transaction set response trailer",
                R,
                1,
                6,
                code("717", 1, 1, "A E M R W X"),
                *(code("618", 1, 3, " ".join(TRANSACTION_CODES), S) for _ in range(5)),
            ),
        ),
        segment(
            "AK9",
            "Functional group response trailer",
            R,
            1,
            9,
            code("715", 1, 1, "A E M P R W X"),
            num("97", 1, 6),
            num("123", 1, 6),
            num("2", 1, 6),
            *(code("716", 1, 3, " ".join(GROUP_CODES), S) for _ in range(5)),
        ),
        SE,
    ),
)
