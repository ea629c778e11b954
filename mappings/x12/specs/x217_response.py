"""The 278 health care services review response, 005010X217.

Same hierarchy as the request. The review outcome is an HCR segment at the patient event
(2000E) and at each service (2000F); a request the payer could not process carries AAA
segments at the level where it failed instead. The payer echoes the requester's trace numbers
in TRN segments with TRN01 = 2 and may add its own with TRN01 = 1.
"""

from __future__ import annotations

from dataclasses import replace

from mappings.x12.schema import LoopSpec, N, R, S, TransactionSpec, Usage, loop
from mappings.x12.specs.clinical import (
    CL1,
    CR1,
    CR2,
    CR5,
    CR6,
    CRC,
    HCR,
    HI,
    HSD,
    SV1,
    SV2,
    SV3,
    TOO,
    um,
)
from mappings.x12.specs.common import (
    AAA,
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
from mappings.x12.specs.x217_request import (
    DEPENDENT_RELATIONSHIPS,
    EVENT_PROVIDERS,
    REFERENCE,
    SERVICE_PROVIDERS,
    SUBSCRIBER_REF_QUALIFIERS,
)

UMO_CONTACT = replace(PER, name="UMO contact information", max_use=3)


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
        AAA,
        PER,
        prv(f"{name} information"),
    )


SERVICE = loop(
    "2000F",
    "Service level",
    S,
    MANY,
    hl("SS", children="0"),
    trn("Service trace number", "1 2", max_use=3),
    AAA,
    um(),
    HCR,
    ref("Previous review authorization number", "BB"),
    ref("Administrative reference number", "NT"),
    dtp("Service date", "472", "D8 RD8"),
    dtp("Certification issue date", "102"),
    dtp("Certification expiration date", "036"),
    dtp("Certification effective date", "007", "D8 RD8"),
    SV1,
    SV2,
    SV3,
    TOO,
    HSD,
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
        trn("Patient event tracking number", "1 2", max_use=3),
        AAA,
        um(),
        HCR,
        ref("Previous review authorization number", "BB"),
        ref("Administrative reference number", "NT"),
        dtp("Accident date", "439"),
        dtp("Last menstrual period date", "484"),
        dtp("Estimated date of birth", "ABG"),
        dtp("Onset of current symptoms or illness date", "431"),
        dtp("Event date", "AAH", "D8 RD8"),
        dtp("Admission date", "435", "D8 RD8"),
        dtp("Discharge date", "096"),
        dtp("Certification issue date", "102"),
        dtp("Certification expiration date", "036"),
        dtp("Certification effective date", "007", "D8 RD8"),
        HI,
        HSD,
        CRC,
        CL1,
        CR1,
        CR2,
        CR5,
        CR6,
        MSG,
        _provider("2010EA", "Patient event provider", EVENT_PROVIDERS),
        SERVICE,
    )


SUBSCRIBER = loop(
    "2000C",
    "Subscriber level",
    S,  # absent when the request was rejected at a level above
    1,
    hl("22"),
    loop(
        "2010C",
        "Subscriber name",
        R,
        1,
        nm1("Subscriber name", "IL", types="1", qualifiers="MI", id_usage=S),
        ref("Subscriber supplemental identification", SUBSCRIBER_REF_QUALIFIERS, max_use=9),
        N3,
        N4,
        AAA,
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
            AAA,
            DMG,
            ins(DEPENDENT_RELATIONSHIPS),
        ),
        _event(S),
    ),
    _event(S),
)

RESPONSE = TransactionSpec(
    set_id="278",
    reference=REFERENCE,
    name="Health care services review response",
    functional_id="HI",
    root=loop(
        "ST",
        "Transaction set",
        R,
        1,
        st("278", REFERENCE),
        bht("0007", "11"),
        loop(
            "2000A",
            "Utilization management organization level",
            R,
            1,
            hl("20", parent=N, children="0 1"),
            AAA,
            loop(
                "2010A",
                "Utilization management organization name",
                R,
                1,
                nm1("UMO name", "X3", qualifiers="24 34 46 PI XV", id_usage=R),
                UMO_CONTACT,
                AAA,
            ),
            loop(
                "2000B",
                "Requester level",
                S,
                1,
                hl("21", children="0 1"),
                loop(
                    "2010B",
                    "Requester name",
                    R,
                    1,
                    nm1("Requester name", "1P FA", id_usage=R),
                    ref("Requester identification", PROVIDER_REF_QUALIFIERS, max_use=8),
                    AAA,
                    prv("Requester provider information"),
                ),
                SUBSCRIBER,
            ),
        ),
        SE,
    ),
    discriminator=("BHT", 2, frozenset({"11"})),
)
