"""The 278 health care services review request, 005010X217.

Hierarchy: 2000A the utilization management organization (payer), 2000B the requester, 2000C
the subscriber, 2000D the dependent when the patient is not the subscriber, 2000E the patient
event (what is asked for, diagnoses, dates, event providers) and 2000F the services under it.
The patient event hangs under 2000D for a dependent and under 2000C otherwise.
"""

from __future__ import annotations

from mappings.x12.schema import LoopSpec, N, R, S, TransactionSpec, Usage, loop
from mappings.x12.specs.clinical import (
    CL1,
    CR1,
    CR2,
    CR5,
    CR6,
    CRC,
    HI,
    HSD,
    PWK,
    SV1,
    SV2,
    SV3,
    TOO,
    um,
)
from mappings.x12.specs.common import (
    DMG,
    MANY,
    MSG,
    N3,
    N4,
    PER,
    PROVIDER_REF_QUALIFIERS,
    SE,
    bht,
    dtp,
    hl,
    ins,
    nm1,
    prv,
    ref,
    st,
    trn,
)

REFERENCE = "005010X217"
EVENT_PROVIDERS = "71 72 73 77 AAJ DD DK DN FA G3 P3 QB QV SJ"
SERVICE_PROVIDERS = "71 72 73 77 AAJ DD DK DN FA G3 P3 QB QV SJ"
SUBSCRIBER_REF_QUALIFIERS = "1L 1W 3H 6P A6 EJ F6 HJ IG N6 NQ SY"
DEPENDENT_RELATIONSHIPS = "01 19 20 21 39 40 53 G8"


def _provider(loop_id: str, name: str, entities: str) -> LoopSpec:
    return loop(
        loop_id,
        name,
        S,
        12,
        nm1(f"{name} name", entities),
        ref(f"{name} supplemental identification", PROVIDER_REF_QUALIFIERS, max_use=7),
        N3,
        N4,
        PER,
        prv(f"{name} information"),
    )


SERVICE = loop(
    "2000F",
    "Service level",
    S,
    MANY,
    hl("SS", children="0"),
    trn("Service trace number", "1"),
    um(),
    ref("Previous review authorization number", "BB"),
    ref("Previous review administrative reference number", "NT"),
    dtp("Service date", "472", "D8 RD8"),
    SV1,
    SV2,
    SV3,
    TOO,
    HSD,
    PWK,
    MSG,
    _provider("2010F", "Service provider", SERVICE_PROVIDERS),
)


def _event(usage: Usage) -> LoopSpec:
    return loop(
        "2000E",
        "Patient event level",
        usage,
        1,
        hl("EV"),
        trn("Patient event tracking number", "1"),
        um(usage=R),
        ref("Previous review authorization number", "BB"),
        ref("Previous review administrative reference number", "NT"),
        dtp("Accident date", "439"),
        dtp("Last menstrual period date", "484"),
        dtp("Estimated date of birth", "ABG"),
        dtp("Onset of current symptoms or illness date", "431"),
        dtp("Event date", "AAH", "D8 RD8"),
        dtp("Admission date", "435", "D8 RD8"),
        dtp("Discharge date", "096"),
        HI,
        HSD,
        CRC,
        CL1,
        CR1,
        CR2,
        CR5,
        CR6,
        PWK,
        MSG,
        _provider("2010EA", "Patient event provider", EVENT_PROVIDERS),
        loop(
            "2010EB",
            "Patient event transport information",
            S,
            5,
            nm1("Transport location", "45 FS ND R3", types="2", qualifiers=None),
            N3,
            N4,
        ),
        loop(
            "2010EC",
            "Patient event other UMO name",
            S,
            1,
            nm1("Other UMO name", "GB", types="2", qualifiers=None),
            ref("Other UMO denial reason", None),
            dtp("Other UMO denial date", None),
        ),
        SERVICE,
    )


SUBSCRIBER = loop(
    "2000C",
    "Subscriber level",
    R,
    1,
    hl("22"),
    loop(
        "2010C",
        "Subscriber name",
        R,
        1,
        nm1("Subscriber name", "IL", types="1", qualifiers="MI", id_usage=R),
        ref("Subscriber supplemental identification", SUBSCRIBER_REF_QUALIFIERS, max_use=9),
        N3,
        N4,
        DMG,
        ins("18"),
    ),
    loop(
        "2000D",
        "Dependent level",
        S,
        1,
        hl("23"),
        loop(
            "2010D",
            "Dependent name",
            R,
            1,
            nm1("Dependent name", "QC", types="1", qualifiers=None),
            ref("Dependent supplemental identification", "A6 EJ SY", max_use=3),
            N3,
            N4,
            DMG,
            ins(DEPENDENT_RELATIONSHIPS),
        ),
        _event(R),
    ),
    _event(S),
)

REQUEST = TransactionSpec(
    set_id="278",
    reference=REFERENCE,
    name="Health care services review request",
    functional_id="HI",
    root=loop(
        "ST",
        "Transaction set",
        R,
        1,
        st("278", REFERENCE),
        bht("0007", "01 13"),
        loop(
            "2000A",
            "Utilization management organization level",
            R,
            1,
            hl("20", parent=N, children="1"),
            loop(
                "2010A",
                "Utilization management organization name",
                R,
                1,
                nm1("UMO name", "X3", qualifiers="24 34 46 PI XV", id_usage=R),
            ),
            loop(
                "2000B",
                "Requester level",
                R,
                1,
                hl("21", children="1"),
                loop(
                    "2010B",
                    "Requester name",
                    R,
                    1,
                    nm1("Requester name", "1P FA", id_usage=R),
                    ref("Requester identification", PROVIDER_REF_QUALIFIERS, max_use=8),
                    N3,
                    N4,
                    PER,
                    prv("Requester provider information"),
                ),
                SUBSCRIBER,
            ),
        ),
        SE,
    ),
    discriminator=("BHT", 2, frozenset({"01", "13"})),
)
