"""A payer's answer, in the vocabulary PAS and the X12 278 share (HCR01 review action codes)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel, Period
from canonical.status import CaseStatus


class ReviewAction(StrEnum):
    certified = "A1"
    certified_partial = "A2"
    not_certified = "A3"
    pended = "A4"
    modified = "A6"
    cancelled = "C"
    contact_payer = "CT"
    no_action_required = "NA"


class DecisionOutcome(StrEnum):
    approved = "approved"
    partially_approved = "partially_approved"
    denied = "denied"
    pended = "pended"
    more_info_requested = "more_info_requested"
    cancelled = "cancelled"

    @property
    def status(self) -> CaseStatus:
        return CaseStatus(self.value)


class ItemDecision(CanonicalModel):
    sequence: int = Field(ge=1)
    action: ReviewAction
    authorized_units: Decimal | None = Field(default=None, ge=0)
    reason_code: str | None = Field(default=None, max_length=20)


class Decision(CanonicalModel):
    outcome: DecisionOutcome
    auth_number: str | None = Field(default=None, max_length=50)
    authorized_period: Period | None = None
    reason_code: str | None = Field(default=None, max_length=20)
    reason_text: str | None = Field(default=None, max_length=1000)
    payer_reference: str | None = Field(default=None, max_length=80)
    items: list[ItemDecision] = Field(default_factory=list, max_length=50)
    decided_at: datetime | None = None
