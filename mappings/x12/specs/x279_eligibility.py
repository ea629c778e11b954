"""The 270 eligibility inquiry and the 271 eligibility response, 005010X279A1.

Both share one hierarchy: 2000A the information source (the payer, HL 20), 2000B the
information receiver (the provider asking, HL 21), 2000C the subscriber (HL 22) and 2000D a
dependent (HL 23). In the 270 each person level asks with EQ segments (service type codes);
in the 271 it answers with EB benefit lines, each of which may say that a service needs
authorization (EB11) and carry its own dates, messages and related entities. An AAA segment at
any level is the payer refusing to answer, with the reason and what to do next.
"""

from __future__ import annotations

from dataclasses import replace

from mappings.x12.schema import (
    Composite,
    Element,
    LoopSpec,
    N,
    R,
    S,
    TransactionSpec,
    Usage,
    an,
    code,
    composite,
    dec,
    loop,
    segment,
)
from mappings.x12.specs.common import (
    AAA,
    DMG,
    MANY,
    MSG,
    N3,
    N4,
    PER,
    SE,
    bht,
    dtp,
    hl,
    ins,
    loose,
    nm1,
    procedure,
    prv,
    ref,
    st,
    trn,
)

REFERENCE = "005010X279A1"
BENEFIT_CODES = "1 2 3 4 5 6 7 8 A B C D E F G H I J K L M N O P Q R S T U V W X Y CB MC"
COVERAGE_LEVELS = "CHD DEP ECH EMP ESP FAM IND SPC SPO TWO"
SOURCE_ENTITIES = "2B 36 GP P5 PR"
SOURCE_QUALIFIERS = "24 46 FI NI PI XV XX"
RECEIVER_ENTITIES = "1P 2B 36 80 FA GP P5 PR"
RECEIVER_QUALIFIERS = "24 34 FI PI PP SV XV XX"
PERSON_REF_QUALIFIERS = "18 1L 1W 3H 6P 6Q CE CT EA EJ F6 GH HJ IF IG ML N6 NQ Q4 SY Y4"
RELATED_ENTITIES = "13 1I 1P 2B 36 73 FA GP GW I3 IL LR P3 P4 P5 PR PRP SEP TTP VER VN VY X3 Y2"
RELATED_QUALIFIERS = "24 34 46 FA FI II MI NI PI PP SV XV XX"
SERVICE_TYPES = Element("1365", "ID", 1, 2, S, None, repeat=99)
PROCEDURE = procedure("AD CJ HC ID IV N4 ZZ", S, described=False)  # no C003-07 here


def _pointers() -> Composite:
    return composite("C004", an("1328", 1, 2), *(an("1328", 1, 2, S) for _ in range(3)), usage=S)


EQ = segment(
    "EQ",
    "Eligibility or benefit inquiry",
    R,
    1,
    5,
    SERVICE_TYPES,
    PROCEDURE,
    code("1207", 3, 3, COVERAGE_LEVELS, S),
    None,
    _pointers(),
)
EB = segment(
    "EB",
    "Eligibility or benefit information",
    R,
    1,
    14,
    code("1390", 1, 2, BENEFIT_CODES),
    code("1207", 3, 3, COVERAGE_LEVELS, S),
    SERVICE_TYPES,
    code("1336", 1, 3, None, S),
    an("1204", 1, 50, S),
    code("615", 1, 2, None, S),
    dec("782", 1, 18, S),
    dec("954", 1, 10, S),
    code("673", 2, 2, None, S),
    dec("380", 1, 15, S),
    code("1073", 1, 1, "N U Y", S),
    code("1073", 1, 1, "N U W Y", S),
    PROCEDURE,
    _pointers(),
)
HSD = segment("HSD", "Health care services delivery", S, 9, 8, *loose(8))
III = segment("III", "Additional information", S, 1, 9, *loose(9))
LS = segment("LS", "Loop header", S, 1, 1, an("447", 1, 4))
LE = segment("LE", "Loop trailer", S, 1, 1, an("447", 1, 4))
MPI = segment("MPI", "Military personnel information", S, 1, 7, *loose(7))
HI = segment("HI", "Health care diagnosis code", S, 1, 8, *loose(8))
AMT = segment("AMT", "Spend down amount", S, 2, 3, code("522", 1, 3, "B6 R"), dec("782", 1, 18))


def _person(level: str, name_loop: str, entity: str, *, response: bool, usage: Usage) -> LoopSpec:
    """2000C or 2000D: the person level with its name loop and its EQ or EB loop."""
    qualifiers = "II MI" if entity == "IL" else None
    name = nm1(
        f"{'Subscriber' if entity == 'IL' else 'Dependent'} name",
        entity,
        types="1",
        qualifiers=qualifiers,
        id_usage=S,
    )
    inquiry_or_benefit = (
        loop(
            f"2110{level[-1]}",
            "Eligibility or benefit information",
            S,
            99,
            EB,
            HSD,
            ref("Additional identification", None, max_use=9),
            dtp("Eligibility or benefit date", None, "D8 RD8", max_use=20),
            AAA,
            replace(MSG, max_use=10),
            loop(f"2115{level[-1]}", "Additional information", S, 10, III),
            LS,
            loop(
                f"2120{level[-1]}",
                "Benefit related entity",
                S,
                23,
                nm1("Benefit related entity name", RELATED_ENTITIES, qualifiers=RELATED_QUALIFIERS),
                N3,
                N4,
                replace(PER, max_use=3),
                prv("Benefit related provider information"),
            ),
            LE,
        )
        if response
        else loop(
            f"2110{level[-1]}",
            "Eligibility or benefit inquiry",
            S,
            99,
            EQ,
            AMT,
            III,
            ref("Additional information", "9F G1"),
            dtp("Eligibility or benefit date", "291", "D8 RD8"),
        )
    )
    return loop(
        level,
        f"{'Subscriber' if entity == 'IL' else 'Dependent'} level",
        usage,
        MANY,
        hl("22" if entity == "IL" else "23"),
        trn("Trace number", "1 2", max_use=3 if response else 2),
        loop(
            name_loop,
            "Name",
            R,
            1,
            name,
            ref("Additional identification", PERSON_REF_QUALIFIERS, max_use=9),
            N3,
            N4,
            *((AAA,) if response else ()),
            prv("Provider information"),
            DMG,
            ins("18" if entity == "IL" else "01 19 20 21 39 40 53 G8"),
            HI,
            dtp("Date", None, "D8 RD8", max_use=9 if response else 2),
            *((MPI,) if response else ()),
            inquiry_or_benefit,
        ),
    )


def _transaction(set_id: str, response: bool) -> TransactionSpec:
    dependent = _person("2000D", "2100D", "03", response=response, usage=S)
    subscriber = _person("2000C", "2100C", "IL", response=response, usage=S)
    subscriber = replace(subscriber, children=(*subscriber.children, dependent))
    refusal = (AAA,) if response else ()
    return TransactionSpec(
        set_id=set_id,
        reference=REFERENCE,
        name="Eligibility, coverage or benefit " + ("information" if response else "inquiry"),
        functional_id="HB" if response else "HS",
        root=loop(
            "ST",
            "Transaction set",
            R,
            1,
            st(set_id, REFERENCE),
            bht("0022", "06 11" if response else "01 13", "RT" if not response else None),
            loop(
                "2000A",
                "Information source level",
                R,
                MANY,
                hl("20", parent=N, children="1"),
                *refusal,
                loop(
                    "2100A",
                    "Information source name",
                    R,
                    1,
                    nm1(
                        "Information source name",
                        SOURCE_ENTITIES,
                        qualifiers=SOURCE_QUALIFIERS,
                        id_usage=R,
                    ),
                    *((replace(PER, max_use=3), AAA) if response else ()),
                ),
                loop(
                    "2000B",
                    "Information receiver level",
                    S if response else R,
                    MANY,
                    hl("21", children="1"),
                    loop(
                        "2100B",
                        "Information receiver name",
                        R,
                        1,
                        nm1(
                            "Information receiver name",
                            RECEIVER_ENTITIES,
                            qualifiers=RECEIVER_QUALIFIERS,
                            id_usage=R,
                        ),
                        ref("Information receiver additional identification", None, max_use=9),
                        N3,
                        N4,
                        *refusal,
                        prv("Information receiver provider information"),
                    ),
                    subscriber,
                ),
            ),
            SE,
        ),
    )


INQUIRY = _transaction("270", response=False)
BENEFITS = _transaction("271", response=True)
