"""What a payer paid, and why not more: a remittance advice (X12 835).

One payment (check or EFT, with its trace) covers many claims; each claim and each service
line carries its adjustments as group + CARC reason codes, the vocabulary denial work is done
in. Provider-level adjustments (PLB) are not tied to a claim and are kept apart.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel, Period
from canonical.cases import Adjustment


class ClaimPaymentStatus(StrEnum):
    """CLP02: how the payer processed the claim."""

    primary = "1"
    secondary = "2"
    tertiary = "3"
    denied = "4"
    primary_forwarded = "19"
    secondary_forwarded = "20"
    tertiary_forwarded = "21"
    reversal = "22"
    not_our_claim = "23"
    predetermination = "25"


class Payment(CanonicalModel):
    handling: str = Field(pattern=r"^[A-Z]{1,2}$", description="BPR01, e.g. I remittance only.")
    amount: Decimal = Field(max_digits=18, decimal_places=2)
    credit: bool = Field(description="BPR03 C (credit to the payee) or D (debit).")
    method: str = Field(pattern=r"^[A-Z]{3}$", description="BPR04: ACH, CHK, NON, ...")
    paid_on: date
    trace_number: str = Field(min_length=1, max_length=50, description="TRN02: check or EFT.")
    originator: str | None = Field(default=None, max_length=10)


class ServicePayment(CanonicalModel):
    procedure_qualifier: str = Field(pattern=r"^[A-Z0-9]{2}$")
    procedure_code: str = Field(min_length=1, max_length=48)
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    charge: Decimal = Field(max_digits=12, decimal_places=2)
    paid: Decimal = Field(max_digits=12, decimal_places=2)
    units: Decimal | None = None
    service_period: Period | None = None
    line_control_number: str | None = Field(default=None, max_length=50)
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list, description="LQ remark codes (RARC).")


class ClaimPayment(CanonicalModel):
    patient_account_number: str = Field(min_length=1, max_length=38)
    status: ClaimPaymentStatus
    charge: Decimal = Field(max_digits=12, decimal_places=2)
    paid: Decimal = Field(max_digits=12, decimal_places=2)
    patient_responsibility: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    filing_indicator: str = Field(pattern=r"^[0-9A-Z]{2}$")
    payer_claim_id: str = Field(min_length=1, max_length=50)
    facility_code: str | None = Field(default=None, max_length=2)
    frequency_code: str | None = Field(default=None, max_length=1)
    member_id: str | None = Field(default=None, max_length=80)
    rendering_npi: str | None = Field(default=None, max_length=80)
    service_period: Period | None = None
    adjustments: list[Adjustment] = Field(default_factory=list)
    lines: list[ServicePayment] = Field(default_factory=list)


class ProviderAdjustment(CanonicalModel):
    """A PLB entry: money moved at the provider level (interest, withholding, recoupment)."""

    provider_id: str = Field(min_length=1, max_length=50)
    fiscal_period_end: date
    reason_code: str = Field(pattern=r"^[0-9A-Z]{2}$")
    reference: str | None = Field(default=None, max_length=50)
    amount: Decimal = Field(max_digits=18, decimal_places=2)


class Remittance(CanonicalModel):
    payment: Payment
    payer_id: str | None = None
    payer_name: str = Field(min_length=1, max_length=60)
    payee_name: str = Field(min_length=1, max_length=60)
    payee_id_qualifier: str = Field(pattern=r"^[A-Z]{2}$")
    payee_id: str = Field(min_length=1, max_length=80)
    claims: list[ClaimPayment] = Field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = Field(default_factory=list)
