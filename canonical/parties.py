"""The people and organizations a case names."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.codes import MemberId, Npi, PayerId, PlaceOfService, ShortText


class AdministrativeSex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Relationship(StrEnum):
    """Patient's relationship to the subscriber, as X12 (INS02/SBR02) and FHIR Coverage code it."""

    self_ = "self"
    spouse = "spouse"
    child = "child"
    other = "other"


class Address(CanonicalModel):
    line: list[ShortText] = Field(default_factory=list, max_length=3)
    city: ShortText | None = None
    state: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    postal_code: str | None = Field(default=None, pattern=r"^[0-9]{5}(-[0-9]{4})?$")


class Person(CanonicalModel):
    given: ShortText
    family: ShortText
    birth_date: date
    sex: AdministrativeSex = AdministrativeSex.unknown
    address: Address | None = None


class Patient(Person):
    mrn: str | None = Field(default=None, min_length=1, max_length=64)


class Coverage(CanonicalModel):
    member_id: MemberId
    group_number: str | None = Field(default=None, min_length=1, max_length=50)
    plan_name: ShortText | None = None
    relationship: Relationship = Relationship.self_
    subscriber: Person | None = Field(
        default=None, description="Required when the patient is not the subscriber."
    )


class Payer(CanonicalModel):
    id: PayerId = Field(description="The payer's id in casegate's routes (often the X12 payer id).")
    name: ShortText


class Provider(CanonicalModel):
    npi: Npi
    name: ShortText
    taxonomy: str | None = Field(default=None, pattern=r"^[0-9]{3}[0-9A-Z]{6}X$")


class Facility(CanonicalModel):
    npi: Npi
    name: ShortText
    place_of_service: PlaceOfService | None = None
    address: Address | None = None
