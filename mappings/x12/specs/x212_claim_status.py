"""The 276 claim status request and the 277 claim status response, 005010X212.

Hierarchy: 2000A the payer (HL 20), 2000B the information receiver (HL 21), 2000C the billing
provider (HL 19), 2000D the subscriber (HL 22), 2000E a dependent (HL 23). Each claim asked
about is a 2200 loop under its patient, tied together by its TRN: the request's trace comes
back in the response with TRN01 = 2. The response's STC segments carry the status category
and status codes for the claim and, in 2220, for each service line.
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
    dt,
    loop,
    segment,
)
from mappings.x12.specs.common import (
    DMG,
    MANY,
    PER,
    SE,
    bht,
    dtp,
    hl,
    nm1,
    procedure,
    ref,
    st,
)

REFERENCE = "005010X212"
PAYER_QUALIFIERS = "46 FI PI XV"
CLAIM_REF_QUALIFIERS = "1K BLT D9 EA EJ XZ VV"


def _status(usage: Usage) -> Composite:
    return composite(
        "C043",
        an("1271", 1, 30),
        an("1271", 1, 30),
        code("98", 2, 3, None, S),
        code("1270", 1, 3, None, S),
        usage=usage,
    )


STC = segment(
    "STC",
    "Status information",
    R,
    MANY,
    12,
    _status(R),
    dt("373"),
    code("306", 1, 2, None, S),
    dec("782", 1, 18, S),
    dec("782", 1, 18, S),
    dt("373", S),
    code("591", 3, 3, "ACH BOP CHK FWT NON", S),
    dt("373", S),
    an("429", 1, 16, S),
    _status(S),
    _status(S),
    an("933", 1, 264, S),
)


def _trace(name: str, types: str, *, originator: bool) -> SegmentSpec:
    """TRN; the 277 echoes only the trace number, so its TRN03 is optional there."""
    return segment(
        "TRN",
        name,
        R,
        1,
        4,
        code("481", 1, 2, types),
        an("127", 1, 50),
        an("509", 10, 10, R if originator else S),
        an("127", 1, 50, S),
    )


SVC = segment(
    "SVC",
    "Service line information",
    R,
    1,
    7,
    procedure("AD ER HC HP IV N4 NU WK"),
    dec("782", 1, 18),
    dec("782", 1, 18, S),
    an("234", 1, 48, S),
    None,
    None,
    dec("380", 1, 15, S),
)


def _claim(level: str, response: bool) -> LoopSpec:
    suffix = level[-1]
    service = loop(
        f"22{'2' if response else '1'}0{suffix}",
        "Service line information",
        S,
        MANY,
        SVC,
        *((STC,) if response else ()),
        ref("Service line item identification", "FJ"),
        dtp("Service line date", "472", "D8 RD8", usage=R if not response else S),
    )
    return loop(
        f"2200{suffix}",
        "Claim status tracking number",
        R if not response else S,
        MANY,
        _trace("Claim status tracking number", "2" if response else "1", originator=not response),
        *((STC,) if response else ()),
        ref("Payer claim control number", "1K"),
        ref("Institutional bill type identification", "BLT"),
        ref("Application or location system identifier", "LU"),
        ref("Group number", "6P"),
        ref("Patient control number", "EJ"),
        ref("Pharmacy prescription number", "XZ"),
        ref("Voucher identifier", "VV"),
        ref("Clearinghouse trace number", "D9"),
        segment(
            "AMT", "Total claim charge amount", S, 1, 3, code("522", 1, 3, "T3"), dec("782", 1, 18)
        ),
        dtp("Claim service date", "472", "D8 RD8"),
        service,
    )


def _person(level: str, name_loop: str, entity: str, response: bool) -> LoopSpec:
    subscriber = entity == "IL"
    return loop(
        level,
        "Subscriber level" if subscriber else "Dependent level",
        S if response else (R if subscriber else S),
        MANY,
        hl("22" if subscriber else "23", children="0 1" if subscriber else "0"),
        *((DMG,) if not response else ()),
        loop(
            name_loop,
            "Subscriber name" if subscriber else "Patient name",
            R,
            1,
            nm1(
                "Subscriber name" if subscriber else "Patient name",
                entity,
                types="1 2" if subscriber else "1",
                qualifiers="24 II MI",
                id_usage=R if subscriber else S,
            ),
        ),
        _claim(level, response),
    )


def _application_status(suffix: str, response: bool) -> tuple[LoopSpec, ...]:
    """277 only: a status for the whole level (e.g. the payer cannot answer for this receiver)."""
    if not response:
        return ()
    return (
        loop(
            f"2200{suffix}",
            "Application trace and status",
            S,
            1,
            _trace("Application trace identifier", "1 2", originator=False),
            replace(STC, usage=S),
        ),
    )


def _transaction(set_id: str, response: bool) -> TransactionSpec:
    subscriber = _person("2000D", "2100D", "IL", response)
    dependent = _person("2000E", "2100E", "QC", response)
    subscriber = replace(subscriber, children=(*subscriber.children, dependent))
    return TransactionSpec(
        set_id=set_id,
        reference=REFERENCE,
        name="Health care claim status " + ("response" if response else "request"),
        functional_id="HN" if response else "HR",
        root=loop(
            "ST",
            "Transaction set",
            R,
            1,
            st(set_id, REFERENCE),
            bht("0010", "08" if response else "13", "DG" if response else None),
            loop(
                "2000A",
                "Information source level",
                R,
                MANY,
                hl("20", parent=N, children="1"),
                loop(
                    "2100A",
                    "Payer name",
                    R,
                    1,
                    nm1("Payer name", "PR", types="2", qualifiers=PAYER_QUALIFIERS, id_usage=R),
                    *((replace(PER, max_use=1),) if response else ()),
                ),
                *_application_status("A", response),
                loop(
                    "2000B",
                    "Information receiver level",
                    R,
                    MANY,
                    hl("21", children="1"),
                    loop(
                        "2100B",
                        "Information receiver name",
                        R,
                        1,
                        nm1("Information receiver name", "41", qualifiers="46 FI XX", id_usage=R),
                    ),
                    *_application_status("B", response),
                    loop(
                        "2000C",
                        "Service provider level",
                        R,
                        MANY,
                        hl("19", children="1"),
                        loop(
                            "2100C",
                            "Provider name",
                            R,
                            1,
                            nm1("Provider name", "1P", qualifiers="FI SV XX", id_usage=R),
                        ),
                        *_application_status("C", response),
                        subscriber,
                    ),
                ),
            ),
            SE,
        ),
    )


STATUS_REQUEST = _transaction("276", response=False)
STATUS_RESPONSE = _transaction("277", response=True)
