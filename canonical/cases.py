"""Case types and the payload each one carries.

All types share one case record, status machine and event stream; only the payload differs, so
a new type is a new payload model here plus the connectors that can move it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel, Period
from canonical.clinical import Attachment, Diagnosis, ServiceLines
from canonical.parties import Coverage, Facility, Patient, Payer, Provider, Relationship


class CaseType(StrEnum):
    prior_authorization = "prior_authorization"
    eligibility_check = "eligibility_check"
    claim_status = "claim_status"
    denial_appeal = "denial_appeal"
    invoice_exception = "invoice_exception"


class Urgency(StrEnum):
    """CMS-0057-F decision clocks: 72 hours expedited, 7 calendar days standard."""

    expedited = "expedited"
    standard = "standard"


class _CoveredRequest(CanonicalModel):
    patient: Patient
    coverage: Coverage
    payer: Payer
    external_reference: str | None = Field(
        default=None, max_length=80, description="The calling system's own id for this request."
    )

    @model_validator(mode="after")
    def _subscriber_when_dependent(self) -> Self:
        dependent = self.coverage.relationship is not Relationship.self_
        if dependent and self.coverage.subscriber is None:
            raise ValueError("coverage.subscriber is required when the patient is a dependent")
        return self


class PriorAuthorizationRequest(_CoveredRequest, ServiceLines):
    urgency: Urgency = Urgency.standard
    requesting_provider: Provider
    rendering_provider: Provider | None = None
    facility: Facility | None = None
    diagnoses: list[Diagnosis] = Field(
        min_length=1, max_length=25, description="The first diagnosis is the principal one."
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(default=None, max_length=2000)


class EligibilityCheckRequest(_CoveredRequest):
    provider: Provider
    service_type_codes: list[str] = Field(
        default_factory=lambda: ["30"],
        min_length=1,
        max_length=10,
        description="X12 EQ01 service type codes; 30 asks for the health benefit plan coverage.",
    )
    as_of: date


class ClaimReference(CanonicalModel):
    patient_account_number: str = Field(min_length=1, max_length=38)
    payer_claim_id: str | None = Field(default=None, max_length=50)
    service_period: Period
    total_charge: Decimal = Field(ge=0, max_digits=12, decimal_places=2)


class ClaimStatusRequest(_CoveredRequest):
    provider: Provider
    claim: ClaimReference


class Adjustment(CanonicalModel):
    """A CAS adjustment: group code (CO, PR, OA, PI, CR) with its CARC reason and amount."""

    group: str = Field(pattern=r"^(CO|PR|OA|PI|CR)$")
    reason_code: str = Field(pattern=r"^[A-Z0-9]{1,5}$")
    amount: Decimal = Field(max_digits=12, decimal_places=2)


class DenialAppealRequest(_CoveredRequest):
    provider: Provider
    claim: ClaimReference
    adjustments: list[Adjustment] = Field(min_length=1, max_length=99)
    appeal_reason: str = Field(min_length=1, max_length=2000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)


class InvoiceLine(CanonicalModel):
    line_number: int = Field(ge=1)
    item_code: str = Field(min_length=1, max_length=50)
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=4)


class InvoiceExceptionRequest(CanonicalModel):
    """An invoice that did not match its purchase order and receipt; it carries no PHI."""

    supplier_id: str = Field(min_length=1, max_length=50)
    supplier_name: str = Field(min_length=1, max_length=200)
    invoice_number: str = Field(min_length=1, max_length=50)
    purchase_order_number: str = Field(min_length=1, max_length=50)
    invoice_date: date
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    lines: list[InvoiceLine] = Field(min_length=1, max_length=500)


CasePayload = (
    PriorAuthorizationRequest
    | EligibilityCheckRequest
    | ClaimStatusRequest
    | DenialAppealRequest
    | InvoiceExceptionRequest
)

PAYLOAD_MODELS: dict[CaseType, type[CasePayload]] = {
    CaseType.prior_authorization: PriorAuthorizationRequest,
    CaseType.eligibility_check: EligibilityCheckRequest,
    CaseType.claim_status: ClaimStatusRequest,
    CaseType.denial_appeal: DenialAppealRequest,
    CaseType.invoice_exception: InvoiceExceptionRequest,
}


def payer_of(payload: CasePayload) -> str:
    """The routing key; invoice exceptions route to the ERP, named by a fixed pseudo-payer."""
    if isinstance(payload, InvoiceExceptionRequest):
        return "erp"
    return payload.payer.id
