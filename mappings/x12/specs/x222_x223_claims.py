"""The 837 health care claim: professional (005010X222A1) and institutional (005010X223A2).

Both guides share the frame: submitter (1000A) and receiver (1000B), the billing provider
(2000A, HL 20), the subscriber (2000B, HL 22, with SBR and the payer in 2010BB), a patient who
is not the subscriber (2000C, HL 23), then the claim (2300: CLM, dates, references, HI code
lists, provider loops 2310x, other payers 2320) and its service lines (2400: LX, SV1 or SV2,
dates, line references). Where the guides list several HI segments by qualifier, one HI
position with the union of the qualifiers stands for them: the qualifier inside each
composite says what the codes are.
"""

from __future__ import annotations

from dataclasses import replace

from mappings.x12.schema import (
    Composite,
    LoopSpec,
    N,
    R,
    S,
    SegmentSpec,
    TransactionSpec,
    Usage,
    an,
    code,
    composite,
    dec,
    loop,
    num,
    rule,
    segment,
)
from mappings.x12.specs.common import (
    DMG,
    MANY,
    N3,
    N4,
    PER,
    SE,
    bht,
    dtp,
    hl,
    loose,
    nm1,
    procedure,
    prv,
    ref,
    st,
)

PROFESSIONAL = "005010X222A1"
INSTITUTIONAL = "005010X223A2"
RELATIONSHIPS = "01 19 20 21 39 40 53 G8"
FILING_INDICATORS = "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ"
PROFESSIONAL_HI = "ABK ABF BK BF BP BO BQ BR BG TC"
INSTITUTIONAL_HI = "ABK BK ABJ BJ APR PR ABN BN DR ABF BF BBR BR CAH BBQ BQ BI BH BE BG TC"
LINE_REFS = "6R 9B 9D 9F BT EW G1 X4 OB F4 K4 LX VY"
CLAIM_REFS = "4N 9A 9C 9F D9 EA EW F5 F8 G1 G4 LU LX P4 X4 1J"


def _code_list(qualifiers: str, usage: Usage) -> Composite:
    return composite(
        "C022",
        code("1270", 1, 3, qualifiers),
        an("1271", 1, 30),
        code("1250", 2, 3, "D8 RD8", S),
        an("1251", 1, 35, S),
        dec("782", 1, 18, S),
        dec("380", 1, 15, S),
        None,
        None,
        code("1073", 1, 1, "N U W Y", S),
        usage=usage,
    )


def _hi(qualifiers: str, max_use: int) -> SegmentSpec:
    return segment(
        "HI",
        "Health care information codes",
        R,
        max_use,
        12,
        _code_list(qualifiers, R),
        *(_code_list(qualifiers, S) for _ in range(11)),
    )


SV1 = segment(
    "SV1",
    "Professional service",
    R,
    1,
    21,
    procedure("ER HC IV WK"),
    dec("782", 1, 18),
    code("355", 2, 2, "MJ UN"),
    dec("380", 1, 15),
    an("1331", 1, 2, S),
    None,
    composite("C004", num("1328", 1, 2), *(num("1328", 1, 2, S) for _ in range(3))),
    None,
    code("1073", 1, 1, "Y", S),
    None,
    code("1073", 1, 1, "Y", S),
    *([None] * 4),
    code("1327", 1, 1, "0 1 2 3 4 5 6", S),
    None,
    an("1337", 1, 1, S),
)
SV2 = segment(
    "SV2",
    "Institutional service line",
    R,
    1,
    10,
    an("234", 1, 48),
    procedure("ER HC HP IV WK", S),
    dec("782", 1, 18),
    code("355", 2, 2, "DA UN"),
    dec("380", 1, 15),
    dec("1371", 1, 10, S),
    dec("782", 1, 18, S),
    rules=(rule("P", 4, 5),),
)


def _clm(institutional: bool) -> SegmentSpec:
    return segment(
        "CLM",
        "Claim information",
        R,
        1,
        20,
        an("1028", 1, 38),
        dec("782", 1, 18),
        None,
        None,
        composite(
            "C023",
            an("1331", 1, 2),
            code("1332", 1, 2, "A B"),
            code("1325", 1, 1, "0 1 2 3 4 5 6 7 8 9"),
        ),
        code("1073", 1, 1, "N Y", S if institutional else R),
        code("1359", 1, 1, "A B C", R),
        code("1073", 1, 1, "N W Y"),
        code("1363", 1, 1, "I Y"),
        code("1351", 1, 1, "P", S),
        composite(
            "C024",
            *(code("1362", 2, 3, "AA EM OA", S) for _ in range(3)),
            an("156", 2, 2, S),
            code("26", 2, 3, None, S),
            usage=S,
        ),
        code("1366", 2, 3, None, S),
        *([None] * 6),
        code("1514", 1, 2, None, S),
    )


SBR = segment(
    "SBR",
    "Subscriber information",
    R,
    1,
    9,
    code("1138", 1, 1, "A B C D E F G H P S T U"),
    code("1069", 2, 2, "18", S),
    an("127", 1, 50, S),
    an("93", 1, 60, S),
    code("1336", 1, 3, None, S),
    None,
    None,
    None,
    code("1032", 1, 2, FILING_INDICATORS, S),
)
PAT = segment(
    "PAT",
    "Patient information",
    S,
    1,
    9,
    code("1069", 2, 2, RELATIONSHIPS, S),
    None,
    None,
    None,
    code("1250", 2, 3, "D8", S),
    an("1251", 1, 35, S),
    code("355", 2, 2, "01", S),
    dec("81", 1, 10, S),
    code("1073", 1, 1, "Y", S),
)
CL1 = segment(
    "CL1",
    "Institutional claim code",
    S,
    1,
    4,
    code("1315", 1, 1, None, S),
    code("1314", 1, 1, None, S),
    code("1352", 1, 2, None, S),
)
AMT = segment("AMT", "Claim amount", S, 3, 3, code("522", 1, 3, "F3 F5 MA"), dec("782", 1, 18))
NTE = segment("NTE", "Note", S, 10, 2, code("363", 3, 3, None), an("352", 1, 80))


def _provider_loop(loop_id: str, name: str, entities: str, *, address: bool = False) -> LoopSpec:
    return loop(
        loop_id,
        name,
        S,
        2 if loop_id.endswith("A") else 1,
        nm1(f"{name} name", entities, qualifiers="XX", id_usage=S),
        *((N3, N4) if address else ()),
        prv(f"{name} specialty", "AT OP OT PE RF"),
        ref(f"{name} secondary identification", "0B 1G G2 LU", max_use=4),
    )


def _line(institutional: bool) -> LoopSpec:
    return loop(
        "2400",
        "Service line",
        R,
        999 if institutional else 50,
        segment("LX", "Service line number", R, 1, 1, num("554", 1, 6)),
        SV2 if institutional else SV1,
        segment("PWK", "Line supplemental information", S, 10, 9, *loose(9)),
        dtp("Service date", "472", "D8 RD8", usage=R if not institutional else S),
        dtp("Other service date", "463 471 607 738 739", max_use=5),
        ref("Line identification", LINE_REFS, max_use=10),
        segment("AMT", "Line amount", S, 2, 3, code("522", 1, 3, "GT N8"), dec("782", 1, 18)),
        NTE,
        loop(
            "2430",
            "Line adjudication information",
            S,
            15,
            segment("SVD", "Line adjudication", R, 1, 6, *loose(6)),
            segment("CAS", "Line adjustment", S, 5, 19, *loose(19)),
            dtp("Line check or remittance date", "573", usage=R),
        ),
    )


def _claim(institutional: bool) -> LoopSpec:
    providers = (
        (
            _provider_loop("2310A", "Attending provider", "71"),
            _provider_loop("2310B", "Operating physician", "72"),
            _provider_loop("2310C", "Other operating physician", "ZZ"),
            _provider_loop("2310D", "Rendering provider", "82"),
            _provider_loop("2310E", "Service facility", "77", address=True),
            _provider_loop("2310F", "Referring provider", "DN"),
        )
        if institutional
        else (
            _provider_loop("2310A", "Referring provider", "DN P3"),
            _provider_loop("2310B", "Rendering provider", "82"),
            _provider_loop("2310C", "Service facility", "77", address=True),
            _provider_loop("2310D", "Supervising provider", "DQ"),
        )
    )
    return loop(
        "2300",
        "Claim information",
        S,
        100,
        _clm(institutional),
        dtp("Discharge hour", "096", "TM"),
        dtp("Statement dates", "434", "RD8", usage=R if institutional else S),
        dtp("Admission date", "435", "D8 DT"),
        dtp(
            "Claim date",
            "050 090 091 296 297 304 314 360 361 431 439 444 453 454 455 471 484",
            "D8 RD8",
            max_use=10,
        ),
        *((CL1,) if institutional else ()),
        segment("PWK", "Claim supplemental information", S, 10, 9, *loose(9)),
        segment("CN1", "Contract information", S, 1, 6, *loose(6)),
        AMT,
        ref("Claim identification", CLAIM_REFS, max_use=14),
        NTE,
        segment("CRC", "Condition information", S, 8, 7, *loose(7)),
        _hi(INSTITUTIONAL_HI if institutional else PROFESSIONAL_HI, 30 if institutional else 8),
        *providers,
        loop(
            "2320",
            "Other subscriber information",
            S,
            10,
            segment("SBR", "Other subscriber information", R, 1, 9, *loose(9)),
            segment("CAS", "Claim level adjustments", S, 5, 19, *loose(19)),
            segment("AMT", "Other payer amount", S, 3, 3, *loose(3)),
            segment("OI", "Other insurance coverage", R, 1, 6, *loose(6)),
            loop(
                "2330A",
                "Other subscriber name",
                R,
                1,
                nm1("Other subscriber name", "IL", qualifiers="II MI", id_usage=R),
                N3,
                N4,
            ),
            loop(
                "2330B",
                "Other payer name",
                R,
                1,
                nm1("Other payer name", "PR", types="2", qualifiers="PI XV", id_usage=R),
                N3,
                N4,
                dtp("Claim check or remittance date", "573"),
                ref("Other payer identification", "2U EI FY NF F8 G1 9F T4", max_use=6),
            ),
        ),
        _line(institutional),
    )


def _person_name(loop_id: str, name: str, entity: str, qualifiers: str | None) -> LoopSpec:
    return loop(
        loop_id,
        name,
        R,
        1,
        nm1(
            name,
            entity,
            types="1 2" if entity == "IL" else "1",
            qualifiers=qualifiers,
            id_usage=R if qualifiers else S,
        ),
        N3,
        N4,
        DMG,
        ref(f"{name} secondary identification", "SY Y4 1W", max_use=2),
    )


def _transaction(institutional: bool) -> TransactionSpec:
    reference = INSTITUTIONAL if institutional else PROFESSIONAL
    claim = _claim(institutional)
    patient = loop(
        "2000C",
        "Patient level",
        S,
        MANY,
        hl("23", children="0"),
        replace(PAT, usage=R),
        _person_name("2010CA", "Patient name", "QC", None),
        claim,
    )
    subscriber = loop(
        "2000B",
        "Subscriber level",
        R,
        MANY,
        hl("22"),
        SBR,
        PAT,
        _person_name("2010BA", "Subscriber name", "IL", "II MI"),
        loop(
            "2010BB",
            "Payer name",
            R,
            1,
            nm1("Payer name", "PR", types="2", qualifiers="PI XV", id_usage=R),
            N3,
            N4,
            ref("Payer secondary identification", "2U EI FY NF G2 LU", max_use=4),
        ),
        claim,
        patient,
    )
    return TransactionSpec(
        set_id="837",
        reference=reference,
        name="Health care claim: " + ("institutional" if institutional else "professional"),
        functional_id="HC",
        root=loop(
            "ST",
            "Transaction set",
            R,
            1,
            st("837", reference),
            bht("0019", "00 18", "31 CH RP", R),
            loop(
                "1000A",
                "Submitter name",
                R,
                1,
                nm1("Submitter name", "41", qualifiers="46", id_usage=R),
                replace(PER, usage=R, max_use=2),
            ),
            loop(
                "1000B",
                "Receiver name",
                R,
                1,
                nm1("Receiver name", "40", types="2", qualifiers="46", id_usage=R),
            ),
            loop(
                "2000A",
                "Billing provider level",
                R,
                MANY,
                hl("20", parent=N, children="1"),
                prv("Billing provider specialty", "BI"),
                segment("CUR", "Foreign currency information", S, 1, 21, *loose(21)),
                loop(
                    "2010AA",
                    "Billing provider name",
                    R,
                    1,
                    nm1("Billing provider name", "85", qualifiers="XX", id_usage=R),
                    replace(N3, usage=R),
                    replace(N4, usage=R),
                    ref("Billing provider tax identification", "EI SY", usage=R),
                    ref("Billing provider UPIN or license", "0B 1G", max_use=2),
                    replace(PER, max_use=2),
                ),
                loop(
                    "2010AB",
                    "Pay-to address",
                    S,
                    1,
                    nm1("Pay-to address name", "87", types="2", qualifiers=None),
                    N3,
                    N4,
                ),
                subscriber,
            ),
            SE,
        ),
    )


CLAIM_PROFESSIONAL = _transaction(institutional=False)
CLAIM_INSTITUTIONAL = _transaction(institutional=True)
