"""What a payer says about a member's coverage: the answer to an eligibility check (X12 271).

Benefits keep the X12 codes they arrive with (EB01 information, EB03 service types, EB02
coverage level), because policies and people read them in that vocabulary; the two questions
the gateway asks most, "is coverage active" and "does this service need prior authorization",
are answered as plain fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from canonical.base import CanonicalModel, Period
from canonical.decisions import Decision, DecisionOutcome

INACTIVE_REASON = "coverage-inactive"


class Benefit(CanonicalModel):
    """One EB line: what kind of information, for which services, with its amounts."""

    information: str = Field(pattern=r"^[0-9A-Z]{1,2}$", description="EB01, e.g. 1 active.")
    coverage_level: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    service_type_codes: list[str] = Field(default_factory=list, max_length=99)
    insurance_type: str | None = Field(default=None, pattern=r"^[0-9A-Z]{1,3}$")
    plan_description: str | None = Field(default=None, max_length=50)
    time_period: str | None = Field(default=None, pattern=r"^[0-9]{1,2}$")
    amount: Decimal | None = Field(default=None, max_digits=18, decimal_places=2)
    percent: Decimal | None = Field(default=None, ge=0, le=1)
    quantity_qualifier: str | None = Field(default=None, pattern=r"^[0-9A-Z]{2}$")
    quantity: Decimal | None = None
    authorization_required: bool | None = Field(
        default=None, description="EB11: Y yes, N no; absent when the payer does not say."
    )
    in_network: bool | None = Field(default=None, description="EB12: Y in plan network.")
    period: Period | None = None
    messages: list[str] = Field(default_factory=list, max_length=10)


class EligibilityRejection(CanonicalModel):
    """An AAA: the payer could not answer at `loop`, for `reason_code`; follow up as told."""

    loop: str
    reason_code: str
    follow_up: str


class EligibilityResult(CanonicalModel):
    case_id: str | None = Field(default=None, description="The trace the request carried.")
    payer_id: str | None = None
    payer_name: str | None = None
    member_id: str | None = None
    group_number: str | None = None
    plan_name: str | None = None
    coverage_active: bool | None = Field(
        default=None, description="EB01 1-5 active, 6-8 inactive; None when no EB says."
    )
    authorization_required_for: list[str] = Field(
        default_factory=list, description="Service type codes whose EB11 says Y."
    )
    as_of: date | None = None
    plan_period: Period | None = None
    benefits: list[Benefit] = Field(default_factory=list)
    rejections: list[EligibilityRejection] = Field(default_factory=list)


def eligibility_decision(result: EligibilityResult) -> Decision:
    """The summary a case's decision holds, whichever wire the result came over: coverage in
    force approves the check, not in force denies it, and a payer that could not say (a
    rejection) asks for the request to be corrected."""
    if result.coverage_active is None:
        rejection = result.rejections[0] if result.rejections else None
        return Decision(
            outcome=DecisionOutcome.more_info_requested,
            reason_code=rejection.reason_code if rejection else None,
        )
    if result.coverage_active:
        return Decision(outcome=DecisionOutcome.approved)
    return Decision(outcome=DecisionOutcome.denied, reason_code=INACTIVE_REASON)
