"""The 835 health care claim payment/advice, 005010X221A1.

Header: the payment (BPR) and its trace (TRN), then payer (1000A) and payee (1000B). Detail:
2000 groups claims under an LX, 2100 is one claim (CLP: status, charge, payment; CAS: group
and reason codes with amounts; NM1: the patient and other parties), 2110 one service line
(SVC with its own CAS). Footer: PLB provider-level adjustments. The ST03 element is often
absent in 835s; the guide then comes from GS08.
"""

from __future__ import annotations

from mappings.x12.schema import (
    Composite,
    R,
    S,
    SegmentSpec,
    TransactionSpec,
    Usage,
    an,
    code,
    composite,
    dec,
    dt,
    loop,
    rule,
    segment,
)
from mappings.x12.specs.common import MANY, N3, N4, SE, loose, nm1, procedure, ref

REFERENCE = "005010X221A1"
CLAIM_STATUS = "1 2 3 4 19 20 21 22 23 25"
FILING_INDICATORS = "12 13 14 15 16 17 AM CH DS HM LM MA MB MC OF TV VA WC ZZ"
ADJUSTMENT_GROUPS = "CO OA PI PR"
PROVIDER_ADJUSTMENTS = (
    "50 51 72 90 AH AM AP B2 B3 BD BN C5 CR CS CT CV CW DM E3 FB FC GO HM IP IR IS J1 L3 "
    "L6 LE LS OA OB PI PL RA RE SL TL WO WU"
)
SERVICE_QUALIFIERS = "AD ER HC HP IV N4 N6 NU UI WK"
PAYER_IDS = "AD FI NI PI PP XV"


def _dtm(name: str, qualifiers: str, max_use: int = 1) -> SegmentSpec:
    return segment(
        "DTM",
        name,
        S,
        max_use,
        6,
        code("374", 3, 3, qualifiers),
        dt("373"),
        rules=(rule("R", 2, 3, 5),),
        match=1,
    )


def _cas(name: str) -> SegmentSpec:
    """CAS: a group code, then up to six reason/amount/quantity triples."""
    triples = []
    for first in (2, 5, 8, 11, 14, 17):
        usage = R if first == 2 else S
        triples += [code("1034", 1, 5, None, usage), dec("782", 1, 18, usage), dec("380", 1, 15, S)]
    rules = [rule("L", p, p + 1, p + 2) for p in (5, 8, 11, 14, 17)]
    rules += [rule("C", p + 1, p) for p in (5, 8, 11, 14, 17)]
    return segment(
        "CAS", name, S, 99, 19, code("1033", 2, 2, ADJUSTMENT_GROUPS), *triples, rules=rules
    )


def _n1(name: str, entity: str, qualifiers: str, usage: Usage) -> SegmentSpec:
    return segment(
        "N1",
        name,
        R,
        1,
        6,
        code("98", 2, 3, entity),
        an("93", 1, 60),
        code("66", 1, 2, qualifiers, usage),
        an("67", 2, 80, usage),
        rules=(rule("P", 3, 4),),
        match=1,
    )


def _per(name: str, functions: str, usage: Usage, max_use: int) -> SegmentSpec:
    qualifiers = "EM EX FX TE UR"
    return segment(
        "PER",
        name,
        usage,
        max_use,
        9,
        code("366", 2, 2, functions),
        an("93", 1, 60, S),
        code("365", 2, 2, qualifiers, S),
        an("364", 1, 256, S),
        code("365", 2, 2, qualifiers, S),
        an("364", 1, 256, S),
        code("365", 2, 2, qualifiers, S),
        an("364", 1, 256, S),
        rules=(rule("P", 3, 4), rule("P", 5, 6), rule("P", 7, 8)),
        match=1,
    )


def _amount(name: str, qualifiers: str, max_use: int) -> SegmentSpec:
    return segment(
        "AMT", name, S, max_use, 3, code("522", 1, 3, qualifiers), dec("782", 1, 18), match=1
    )


def _quantity(name: str, qualifiers: str, max_use: int) -> SegmentSpec:
    return segment(
        "QTY", name, S, max_use, 4, code("673", 2, 2, qualifiers), dec("380", 1, 15), match=1
    )


def _adjustment(usage: Usage) -> Composite:
    return composite(
        "C042",
        code("426", 2, 2, PROVIDER_ADJUSTMENTS),
        an("127", 1, 50, S),
        usage=usage,
    )


SERVICE = loop(
    "2110",
    "Service payment information",
    S,
    999,
    segment(
        "SVC",
        "Service payment information",
        R,
        1,
        7,
        procedure(SERVICE_QUALIFIERS, R),
        dec("782", 1, 18),
        dec("782", 1, 18),
        an("234", 1, 48, S),
        dec("380", 1, 15, S),
        procedure(SERVICE_QUALIFIERS, S),
        dec("380", 1, 15, S),
    ),
    _dtm("Service date", "150 151 472", 2),
    _cas("Service adjustment"),
    ref("Service identification", "1S APC BB E9 G1 G3 LU RB", max_use=8),
    ref("Line item control number", "6R"),
    ref("Rendering provider information", "0B 1A 1B 1C 1D 1G 1H 1J D3 G2 HPI SY TJ", max_use=10),
    ref("Health care policy identification", "0K", max_use=5),
    _amount("Service supplemental amount", "B6 KH T T2 ZK ZL ZM ZN ZO", 9),
    _quantity("Service supplemental quantity", "ZK ZL ZM ZN ZO", 6),
    segment(
        "LQ", "Health care remark codes", S, 99, 2, code("1270", 1, 3, "HE RX"), an("1271", 1, 30)
    ),
)

CLAIM = loop(
    "2100",
    "Claim payment information",
    R,
    MANY,
    segment(
        "CLP",
        "Claim payment information",
        R,
        1,
        14,
        an("1028", 1, 38),
        code("1029", 1, 2, CLAIM_STATUS),
        dec("782", 1, 18),
        dec("782", 1, 18),
        dec("782", 1, 18, S),
        code("1032", 1, 2, FILING_INDICATORS),
        an("127", 1, 50),
        an("1331", 1, 2, S),
        code("1325", 1, 1, None, S),
        None,
        an("1354", 1, 4, S),
        dec("380", 1, 15, S),
        dec("954", 1, 10, S),
    ),
    _cas("Claim adjustment"),
    nm1("Patient name", "QC", types="1", qualifiers="34 HN II MI MR"),
    nm1("Insured name", "IL", qualifiers="FI II MI", usage=S, id_usage=R),
    nm1("Corrected patient or insured name", "74", qualifiers="C", usage=S),
    nm1("Service provider name", "82", qualifiers="BD BS FI MC PC SL UP XX", usage=S, id_usage=R),
    nm1("Crossover carrier name", "TT", types="2", qualifiers=PAYER_IDS, usage=S, id_usage=R),
    nm1(
        "Corrected priority payer name", "PR", types="2", qualifiers=PAYER_IDS, usage=S, id_usage=R
    ),
    nm1("Other subscriber name", "GB", qualifiers="FI II MI", usage=S),
    segment("MIA", "Inpatient adjudication information", S, 1, 24, dec("380", 1, 15), *loose(23)),
    segment("MOA", "Outpatient adjudication information", S, 1, 9, *loose(9)),
    ref(
        "Other claim related identification", "1L 1W 28 6P 9A 9C BB CE EA F8 G1 G3 IG SY", max_use=5
    ),
    ref("Rendering provider identification", "0B 1A 1B 1C 1D 1G 1H 1J D3 G2 LU", max_use=10),
    _dtm("Statement from or to date", "232 233", 2),
    _dtm("Coverage expiration date", "036"),
    _dtm("Claim received date", "050"),
    _per("Claim contact information", "CX", S, 2),
    _amount("Claim supplemental information", "AU D8 DY F5 I NL T T2 ZK ZL ZM ZN ZO", 13),
    _quantity("Claim supplemental quantity", "CA CD LA LE NE NR OU PS VS ZK ZL ZM ZN ZO", 14),
    SERVICE,
)

HEADER_NUMBER = loop(
    "2000",
    "Header number",
    S,
    MANY,
    segment("LX", "Header number", R, 1, 1, an("554", 1, 6)),
    segment("TS3", "Provider summary information", S, 1, 24, *loose(24)),
    segment("TS2", "Provider supplemental summary information", S, 1, 19, *loose(19)),
    CLAIM,
)

PAYMENT = TransactionSpec(
    set_id="835",
    reference=REFERENCE,
    name="Health care claim payment/advice",
    functional_id="HP",
    root=loop(
        "ST",
        "Transaction set",
        R,
        1,
        segment(
            "ST",
            "Transaction set header",
            R,
            1,
            3,
            code("143", 3, 3, "835"),
            an("329", 4, 9),
            code("1705", 1, 35, REFERENCE, S),
        ),
        segment(
            "BPR",
            "Financial information",
            R,
            1,
            21,
            code("305", 1, 2, "C D H I P U X"),
            dec("782", 1, 18),
            code("478", 1, 1, "C D"),
            code("591", 3, 3, "ACH BOP CHK FWT NON"),
            code("812", 1, 10, "CCP CTX", S),
            code("506", 2, 2, "01 04", S),
            an("507", 3, 12, S),
            code("569", 1, 3, "DA", S),
            an("508", 1, 35, S),
            an("509", 10, 10, S),
            an("510", 9, 9, S),
            code("506", 2, 2, "01 04", S),
            an("507", 3, 12, S),
            code("569", 1, 3, "DA SG", S),
            an("508", 1, 35, S),
            dt("373"),
            rules=(rule("P", 6, 7), rule("C", 8, 9), rule("P", 12, 13), rule("C", 14, 15)),
        ),
        segment(
            "TRN",
            "Reassociation trace number",
            R,
            1,
            4,
            code("481", 1, 2, "1"),
            an("127", 1, 50),
            an("509", 10, 10),
            an("127", 1, 50, S),
        ),
        segment(
            "CUR",
            "Foreign currency information",
            S,
            1,
            21,
            code("98", 2, 3, "PR"),
            code("100", 3, 3),
        ),
        ref("Receiver identification", "EV"),
        ref("Version identification", "F2"),
        _dtm("Production date", "405"),
        loop(
            "1000A",
            "Payer identification",
            R,
            1,
            _n1("Payer identification", "PR", "XV", S),
            segment("N3", "Payer address", R, 1, 2, an("166", 1, 55), an("166", 1, 55, S)),
            segment("N4", "Payer city, state, ZIP code", R, 1, 7, *N4.fields),
            ref("Additional payer identification", "2U EO HI NF", max_use=4),
            _per("Payer business contact information", "CX", S, 1),
            _per("Payer technical contact information", "BL", R, MANY),
            _per("Payer web site", "IC", S, 1),
        ),
        loop(
            "1000B",
            "Payee identification",
            R,
            1,
            _n1("Payee identification", "PE", "FI XV XX", R),
            N3,
            N4,
            ref("Payee additional identification", "0B D3 PQ TJ", max_use=MANY),
            segment(
                "RDM",
                "Remittance delivery method",
                S,
                1,
                5,
                code("756", 1, 2, "BM EM FT OL"),
                an("93", 1, 60, S),
                an("364", 1, 256, S),
            ),
        ),
        HEADER_NUMBER,
        segment(
            "PLB",
            "Provider adjustment",
            S,
            MANY,
            14,
            an("127", 1, 50),
            dt("373"),
            _adjustment(R),
            dec("782", 1, 18),
            *(field for _ in range(5) for field in (_adjustment(S), dec("782", 1, 18, S))),
            rules=tuple(rule("P", p, p + 1) for p in (5, 7, 9, 11, 13)),
        ),
        segment("SE", "Transaction set trailer", R, 1, 2, *SE.fields),
    ),
)
