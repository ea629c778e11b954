"""The files a clearinghouse leaves for pickup: 835 remittances and unsolicited 277 statuses.

A sandbox payer pays or denies the claims a test or the demo names; the 835 carries each as a
CLP with one service line, and a denial as the CAS group and reason codes a real payer uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from canonical.cases import ClaimStatusRequest
from canonical.claim_status import ClaimStatusResult
from mappings.x12 import (
    Group,
    InterchangeHeader,
    Party,
    Segment,
    Transaction,
    build,
    build_interchange,
)
from mappings.x12.claim_status import status_body
from mappings.x12.delimiters import Delimiters
from mappings.x12.specs import X212_277, X221_835


@dataclass(frozen=True)
class ClaimAdjustment:
    group: str  # CO, PR, OA, PI
    reason_code: str  # CARC
    amount: Decimal


@dataclass(frozen=True)
class PaidClaim:
    """One claim as the payer settled it; `paid` 0 with adjustments is a denial."""

    account_number: str
    payer_claim_id: str
    procedure_code: str
    charge: Decimal
    paid: Decimal
    service_date: date
    member_id: str
    family: str
    given: str
    adjustments: Sequence[ClaimAdjustment] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        """CLP02: 1 processed as primary, 4 denied."""
        return "4" if self.paid == 0 and self.charge > 0 else "1"


@dataclass(frozen=True)
class Payee:
    npi: str
    name: str
    tax_id: str


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def remittance_835(
    claims: Sequence[PaidClaim],
    *,
    header: InterchangeHeader,
    payer_id: str,
    payer_name: str,
    payee: Payee,
    paid_on: date,
    trace_number: str,
) -> bytes:
    """One 835 paying `claims`; `header` names the clearinghouse (sender) and the provider."""
    d = header.delimiters

    def seg(segment_id: str, *elements: str | list[str] | None) -> Segment:
        return build(segment_id, *elements, delimiters=d)

    total = sum((c.paid for c in claims), Decimal(0))
    day = f"{paid_on:%Y%m%d}"
    body = [
        seg(
            "BPR",
            "I",
            _money(total),
            "C",
            "ACH",
            "CCP",
            "01",
            "999999992",
            "DA",
            "123456",
            "1512345678",
            None,
            "01",
            "999988880",
            "DA",
            "98765",
            day,
        ),
        seg("TRN", "1", trace_number, "1512345678"),
        seg("DTM", "405", day),
        seg("N1", "PR", payer_name, "XV", payer_id),
        seg("N3", "1 PAYER PLAZA"),
        seg("N4", "HARTFORD", "CT", "06103"),
        seg("PER", "BL", "EDI SUPPORT", "TE", "8005550199"),
        seg("N1", "PE", payee.name, "XX", payee.npi),
        seg("REF", "TJ", payee.tax_id),
        seg("LX", "1"),
    ]
    for claim in claims:
        adjusted = sum((a.amount for a in claim.adjustments), Decimal(0))
        body += [
            seg(
                "CLP",
                claim.account_number,
                claim.status,
                _money(claim.charge),
                _money(claim.paid),
                "0",
                "12",
                claim.payer_claim_id,
                "11",
                "1",
            ),
            seg(
                "NM1", "QC", "1", claim.family, claim.given, None, None, None, "MI", claim.member_id
            ),
            seg("DTM", "232", f"{claim.service_date:%Y%m%d}"),
            seg(
                "SVC",
                ["HC", claim.procedure_code],
                _money(claim.charge),
                _money(claim.paid),
                None,
                "1",
            ),
            seg("DTM", "472", f"{claim.service_date:%Y%m%d}"),
        ]
        for kind in dict.fromkeys(a.group for a in claim.adjustments):
            triples: list[str] = []
            for adjustment in claim.adjustments:
                if adjustment.group == kind:
                    triples += [adjustment.reason_code, _money(adjustment.amount), ""]
            body.append(seg("CAS", kind, *triples[:-1]))
        if adjusted + claim.paid != claim.charge:
            raise ValueError("a claim's payment and adjustments must add up to its charge")
    transaction = Transaction("835", "0001", body)
    group = Group(X221_835.functional_id, X221_835.reference, header.control_number, [transaction])
    return build_interchange(header, [group]).to_bytes()


def claim_status_277(
    case_id: str,
    request: ClaimStatusRequest,
    result: ClaimStatusResult,
    *,
    header: InterchangeHeader,
    created: datetime,
) -> bytes:
    """An unsolicited 277 telling where the claim `request` asked about stands."""
    body = status_body(case_id, request, result, created=created, delimiters=header.delimiters)
    transaction = Transaction("277", "0001", body)
    group = Group(X212_277.functional_id, X212_277.reference, header.control_number, [transaction])
    return build_interchange(header, [group]).to_bytes()


def report_header(
    clearinghouse: str, receiver: str, control_number: int, created: datetime
) -> InterchangeHeader:
    return InterchangeHeader(
        sender=Party(clearinghouse),
        receiver=Party(receiver),
        control_number=control_number,
        created=created,
        usage="T",
        delimiters=Delimiters(),
        line_break="\n",
    )
