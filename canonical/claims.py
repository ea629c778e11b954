"""A claim for payment of services rendered, professional or institutional (X12 837P / 837I).

One model serves both: what differs (place of service and diagnosis pointers for a
professional claim; type of bill, statement period, admission codes and revenue codes for an
institutional one) is checked by kind, so a claim is never ambiguous about which 837 it is.
The claim total must equal the sum of its lines, as payers reject it otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel, Period
from canonical.cases import _CoveredRequest
from canonical.clinical import Diagnosis, UnitType
from canonical.codes import Modifier, Npi, PlaceOfService, ProcedureCode, ShortText
from canonical.parties import Address, Provider


class ClaimKind(StrEnum):
    professional = "professional"
    institutional = "institutional"


class BillingProvider(CanonicalModel):
    npi: Npi
    name: ShortText
    tax_id: str = Field(pattern=r"^[0-9]{9}$", description="The EIN the payment is reported to.")
    address: Address
    taxonomy: str | None = Field(default=None, pattern=r"^[0-9]{3}[0-9A-Z]{6}X$")


class ClaimLine(CanonicalModel):
    sequence: int = Field(ge=1, le=999)
    procedure_code: ProcedureCode | None = None
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    revenue_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    charge: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    units: Decimal = Field(default=Decimal(1), gt=0, le=99999)
    unit_type: UnitType = UnitType.units
    service_period: Period
    place_of_service: PlaceOfService | None = None
    diagnosis_pointers: list[int] = Field(default_factory=list, max_length=4)
    line_control_number: str | None = Field(default=None, min_length=1, max_length=50)


class Claim(_CoveredRequest):
    kind: ClaimKind
    patient_account_number: str = Field(min_length=1, max_length=38, pattern=r"^[!-~]+$")
    total_charge: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    frequency_code: str = Field(default="1", pattern=r"^[0-9]$", description="1 original.")
    place_of_service: PlaceOfService | None = Field(
        default=None, description="Professional: where the services were rendered."
    )
    facility_type: str | None = Field(
        default=None,
        pattern=r"^[0-9]{2}$",
        description="Institutional: the first two digits of the type of bill.",
    )
    statement_period: Period | None = None
    admission_type: str | None = Field(default=None, pattern=r"^[0-9]$")
    admission_source: str | None = Field(default=None, pattern=r"^[0-9A-Z]$")
    patient_status: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    billing_provider: BillingProvider
    rendering_provider: Provider | None = Field(
        default=None, description="Professional: rendering; institutional: attending."
    )
    prior_authorization_number: str | None = Field(default=None, min_length=1, max_length=50)
    diagnoses: list[Diagnosis] = Field(min_length=1, max_length=25)
    service_lines: list[ClaimLine] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if sum((line.charge for line in self.service_lines), Decimal(0)) != self.total_charge:
            raise ValueError("total_charge must equal the sum of the service line charges")
        if len({line.sequence for line in self.service_lines}) != len(self.service_lines):
            raise ValueError("service line sequences must be unique")
        if self.kind is ClaimKind.professional:
            self._professional()
        else:
            self._institutional()
        return self

    def _professional(self) -> None:
        if self.place_of_service is None:
            raise ValueError("a professional claim needs place_of_service")
        if len(self.diagnoses) > 12:
            raise ValueError("a professional claim carries at most 12 diagnoses")
        for line in self.service_lines:
            if line.procedure_code is None:
                raise ValueError(f"line {line.sequence}: a professional line needs a procedure")
            if not line.diagnosis_pointers or any(
                not 1 <= p <= len(self.diagnoses) for p in line.diagnosis_pointers
            ):
                raise ValueError(f"line {line.sequence}: diagnosis_pointers must name diagnoses")

    def _institutional(self) -> None:
        if self.facility_type is None or self.statement_period is None:
            raise ValueError("an institutional claim needs facility_type and statement_period")
        if self.admission_type is None or self.patient_status is None:
            raise ValueError("an institutional claim needs admission_type and patient_status")
        for line in self.service_lines:
            if line.revenue_code is None:
                raise ValueError(f"line {line.sequence}: an institutional line needs revenue_code")
