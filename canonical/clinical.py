"""What is being asked for: diagnoses, service lines, drugs and supporting documents."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel, Period
from canonical.codes import Icd10Cm, Modifier, Ndc, PlaceOfService, ProcedureCode, ShortText

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class Diagnosis(CanonicalModel):
    code: Icd10Cm
    description: ShortText | None = None


class UnitType(StrEnum):
    """X12 unit qualifiers (SV103/SV203), which FHIR quantities map onto too."""

    units = "UN"
    minutes = "MJ"
    days = "DA"


class Drug(CanonicalModel):
    ndc: Ndc
    quantity: Decimal = Field(gt=0, le=99999)
    unit: str = Field(default="UN", pattern=r"^(F2|GR|ME|ML|UN)$")


class ServiceLine(CanonicalModel):
    sequence: int = Field(ge=1, le=999)
    procedure_code: ProcedureCode
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    units: Decimal = Field(default=Decimal(1), gt=0, le=9999)
    unit_type: UnitType = UnitType.units
    service_period: Period
    place_of_service: PlaceOfService | None = None
    drug: Drug | None = None
    description: ShortText | None = None


class Attachment(CanonicalModel):
    """A document sent with a case; its bytes live encrypted in the message store, not here."""

    kind: str = Field(
        pattern=r"^[A-Z0-9]{2}$", description="X12 PWK01 report type code, e.g. 09 or OZ."
    )
    media_type: str = Field(pattern=r"^[a-z]+/[a-z0-9.+\-]+$", max_length=100)
    title: ShortText
    size: int = Field(ge=0, le=MAX_ATTACHMENT_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    message_id: str | None = Field(default=None, description="Where the bytes are stored.")


class ServiceLines(CanonicalModel):
    """Mixin check shared by the payloads that carry service lines."""

    service_lines: list[ServiceLine] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _unique_sequences(self) -> Self:
        seen: set[int] = set()
        for line in self.service_lines:
            if line.sequence in seen:
                raise ValueError(f"service line sequence {line.sequence} is used twice")
            seen.add(line.sequence)
        return self
