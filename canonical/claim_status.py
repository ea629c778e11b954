"""Where a submitted claim stands with the payer: the answer to a claim status inquiry (X12 277).

Status travels as the health care claim status category and status codes (the STC composite):
the category says where the claim is (A acknowledged, P pending, F finalized, R request
problem, E error) and the status code says why. Both are external code lists, kept as they
arrive so a person can look them up; `finalized` and `pending` summarize the category.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from canonical.base import CanonicalModel, Period


class StatusCode(CanonicalModel):
    category: str = Field(pattern=r"^[A-Z][0-9A-Z]{0,2}$", description="e.g. A1, F1, F2, P1.")
    code: str = Field(pattern=r"^[0-9A-Z]{1,30}$")
    entity: str | None = Field(default=None, pattern=r"^[0-9A-Z]{2,3}$")

    @property
    def finalized(self) -> bool:
        return self.category.startswith("F")

    @property
    def pending(self) -> bool:
        return self.category.startswith("P")


class LineStatus(CanonicalModel):
    procedure_code: str = Field(min_length=1, max_length=48)
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    charge: Decimal = Field(max_digits=12, decimal_places=2)
    paid: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    line_control_number: str | None = Field(default=None, max_length=50)
    service_period: Period | None = None
    statuses: list[StatusCode] = Field(min_length=1)


class ClaimStatus(CanonicalModel):
    patient_account_number: str | None = Field(default=None, max_length=38)
    payer_claim_id: str | None = Field(default=None, max_length=50)
    trace_number: str | None = Field(default=None, description="TRN02 the inquiry carried.")
    statuses: list[StatusCode] = Field(min_length=1)
    status_date: date | None = None
    total_charge: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    paid: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    paid_on: date | None = None
    check_number: str | None = Field(default=None, max_length=16)
    service_period: Period | None = None
    lines: list[LineStatus] = Field(default_factory=list)


class ClaimStatusResult(CanonicalModel):
    case_id: str | None = Field(default=None, description="The trace the inquiry carried.")
    payer_id: str | None = None
    payer_name: str | None = None
    claims: list[ClaimStatus] = Field(default_factory=list)
