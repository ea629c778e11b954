"""Which denials in a remittance open `denial_appeal` cases, and the payload each one carries.

A line is denied when the payer paid nothing for a charge and says why with an adjustment the
provider can contest: group CO (contractual obligation), PI (payer initiated) or OA (other).
PR adjustments are the patient's share, billed to the patient rather than appealed, and a few
CO reasons are the contract working as agreed (45: above the fee schedule; 253:
sequestration), so they never open a case. A claim the payer denied as a whole (CLP02 = 4)
is denied on every line. A reversal (CLP02 = 22) takes back an earlier payment and is
reconciled, not appealed.

The appeal needs what the 835 does not carry (the patient's birth date, the coverage, the
provider's name), so it is built from the claim as it was submitted, found by its patient
account number. A denial whose claim is unknown is returned as unmatched, for a person to look
at. One case per claim, listing the denied lines' adjustments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from canonical.base import Period
from canonical.cases import Adjustment, ClaimReference, DenialAppealRequest
from canonical.claims import Claim
from canonical.parties import Provider
from canonical.remittance import ClaimPayment, ClaimPaymentStatus, Remittance, ServicePayment

APPEALABLE_GROUPS = frozenset({"CO", "PI", "OA"})
AGREED_REASONS = frozenset({"45", "253"})
MAX_ADJUSTMENTS = 99


@dataclass(frozen=True, slots=True)
class DeniedClaim:
    """A claim with denials whose submitted claim is not known: what was denied."""

    payment: ClaimPayment
    adjustments: tuple[Adjustment, ...]
    denied_lines: tuple[int, ...]  # indexes into payment.lines


@dataclass(frozen=True, slots=True)
class DenialReview:
    appeals: list[DenialAppealRequest] = field(default_factory=list)
    unmatched: list[DeniedClaim] = field(default_factory=list)


def contestable(adjustments: list[Adjustment]) -> list[Adjustment]:
    return [
        a
        for a in adjustments
        if a.group in APPEALABLE_GROUPS and a.reason_code not in AGREED_REASONS and a.amount > 0
    ]


def line_denied(line: ServicePayment) -> bool:
    return line.paid == 0 and line.charge > 0 and bool(contestable(line.adjustments))


def denials(payment: ClaimPayment) -> tuple[list[Adjustment], list[int]]:
    """The contestable adjustments of a claim and the indexes of its denied lines."""
    if payment.status is ClaimPaymentStatus.reversal:
        return [], []
    whole = payment.status is ClaimPaymentStatus.denied
    lines = [i for i, line in enumerate(payment.lines) if whole or line_denied(line)]
    found = contestable(payment.adjustments) if whole or lines else []
    for index in lines:
        found += [a for a in contestable(payment.lines[index].adjustments) if a not in found]
    if whole and not found:  # denied without a contestable reason: CARC A1, "claim denied"
        found = [a for a in payment.adjustments if a.amount > 0] or [
            Adjustment(group="CO", reason_code="A1", amount=payment.charge)
        ]
    return found, lines


def review_denials(remittance: Remittance, submitted: Mapping[str, Claim]) -> DenialReview:
    """The denial_appeal payloads `remittance` opens, given the claims as they were submitted.

    `submitted` maps patient account numbers (CLM01, echoed as CLP01) to canonical claims.
    """
    review = DenialReview()
    for payment in remittance.claims:
        adjustments, lines = denials(payment)
        if not adjustments:
            continue
        claim = submitted.get(payment.patient_account_number)
        if claim is None:
            review.unmatched.append(DeniedClaim(payment, tuple(adjustments), tuple(lines)))
        else:
            review.appeals.append(_appeal(payment, claim, adjustments, lines))
    return review


def _appeal(
    payment: ClaimPayment, claim: Claim, adjustments: list[Adjustment], lines: list[int]
) -> DenialAppealRequest:
    billing = claim.billing_provider
    provider = claim.rendering_provider or Provider(
        npi=billing.npi, name=billing.name, taxonomy=billing.taxonomy
    )
    return DenialAppealRequest(
        patient=claim.patient,
        coverage=claim.coverage,
        payer=claim.payer,
        provider=provider,
        claim=ClaimReference(
            patient_account_number=claim.patient_account_number,
            payer_claim_id=payment.payer_claim_id,
            service_period=_served(claim),
            total_charge=claim.total_charge,
        ),
        adjustments=adjustments[:MAX_ADJUSTMENTS],
        appeal_reason=_reason(payment, adjustments, lines),
    )


def _served(claim: Claim) -> Period:
    if claim.statement_period is not None:
        return claim.statement_period
    starts = [line.service_period.start for line in claim.service_lines]
    ends = [line.service_period.end or line.service_period.start for line in claim.service_lines]
    return Period(start=min(starts), end=max(ends))


def _reason(payment: ClaimPayment, adjustments: list[Adjustment], lines: list[int]) -> str:
    """Codes only: the reason names the denial, not the patient."""
    codes = ", ".join(f"{a.group}-{a.reason_code}" for a in adjustments)
    denied = Decimal(sum(payment.lines[i].charge for i in lines)) if lines else payment.charge
    scope = (
        "claim denied"
        if payment.status is ClaimPaymentStatus.denied
        else f"{len(lines)} of {len(payment.lines)} line(s) denied"
    )
    procedures = ", ".join(payment.lines[i].procedure_code for i in lines)
    text = f"{scope} ({denied} of {payment.charge} charged): {codes}"
    return f"{text}; procedures {procedures}" if procedures else text
