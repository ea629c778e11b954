"""What an inbound HL7 message means, in canonical terms.

An order (ORM, OMG, RDE) opens or changes a prior-authorization case; the other messages do
not open one but change what an open case knows: a schedule moves its dates, a registration
changes its coverage, a document becomes an attachment. They are small canonical models
here, on the shared `CanonicalModel` base, until the domain needs them beyond HL7.
Each carries the identifiers that tie it to its case (placer order and appointment numbers,
the MRN); finding the case is the gateway's work, not the mapping's.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel, Period
from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import Attachment
from canonical.codes import ShortText
from canonical.parties import Coverage, Patient, Payer
from mappings.hl7v2.vocabulary import OrderControl

Identifier = str  # placer/filler numbers and MRNs, as the EHR assigned them


class PriorAuthorizationOrder(CanonicalModel):
    """A new or changed order that needs a prior authorization (ORM^O01, OMG^O19, RDE^O11)."""

    control: OrderControl = Field(description="new or change; a cancel is an OrderCancellation.")
    placer_order_numbers: list[Identifier] = Field(
        min_length=1, description="ORC-2 of the order behind each service line, in line order."
    )
    placer_group_number: Identifier | None = Field(default=None, max_length=80)
    request: PriorAuthorizationRequest


class OrderCancellation(CanonicalModel):
    """The EHR cancelled or discontinued orders (ORC-1 CA, DC, OC or OD)."""

    placer_order_numbers: list[Identifier] = Field(min_length=1)
    reason_code: str | None = Field(default=None, max_length=80, description="ORC-16.")


class SchedulingAction(StrEnum):
    booked = "booked"  # SIU^S12
    rescheduled = "rescheduled"  # S13
    modified = "modified"  # S14
    cancelled = "cancelled"  # S15


class ScheduledService(CanonicalModel):
    """One AIS: the service booked, and when."""

    code: str = Field(min_length=1, max_length=80)
    coding_system: str | None = Field(default=None, max_length=40)
    description: ShortText | None = None
    service_date: date | None = None
    start: datetime | None = Field(default=None, description="Sender's local time if naive.")
    duration_minutes: int | None = Field(default=None, ge=0)


class ScheduledLocation(CanonicalModel):
    """AIL-3: where the service takes place, in the EHR's own location codes."""

    facility: str | None = Field(default=None, max_length=80)
    point_of_care: str | None = Field(default=None, max_length=80)
    room: str | None = Field(default=None, max_length=80)


class SchedulingEvent(CanonicalModel):
    action: SchedulingAction
    placer_appointment_id: Identifier | None = Field(default=None, max_length=80)
    filler_appointment_id: Identifier | None = Field(default=None, max_length=80)
    placer_order_number: Identifier | None = Field(default=None, max_length=80)
    patient_mrn: Identifier | None = Field(default=None, max_length=64)
    reason_code: str | None = Field(default=None, max_length=80, description="SCH-6.")
    services: list[ScheduledService] = Field(default_factory=list)
    locations: list[ScheduledLocation] = Field(default_factory=list)


class RegistrationKind(StrEnum):
    registered = "registered"  # ADT^A04
    updated = "updated"  # ADT^A08


class InsuredCoverage(CanonicalModel):
    """One IN1 (with its IN2): a coverage, its payer and where it ranks."""

    priority: int = Field(ge=1, description="IN1-1: 1 is primary.")
    payer: Payer
    coverage: Coverage
    period: Period | None = None


class RegistrationEvent(CanonicalModel):
    kind: RegistrationKind
    patient: Patient
    visit_number: Identifier | None = Field(default=None, max_length=80)
    coverages: list[InsuredCoverage] = Field(default_factory=list)


class DocumentEvent(CanonicalModel):
    """MDM^T02: a clinical document, to attach to the case its order or patient belongs to."""

    document_id: Identifier = Field(min_length=1, max_length=80, description="TXA-12.")
    document_type: str = Field(min_length=1, max_length=30, description="TXA-2.")
    completion_status: str | None = Field(default=None, max_length=10, description="TXA-17.")
    placer_order_numbers: list[Identifier] = Field(default_factory=list)
    patient_mrn: Identifier | None = Field(default=None, max_length=64)
    attachment: Attachment


InboundEvent = (
    PriorAuthorizationOrder
    | OrderCancellation
    | SchedulingEvent
    | RegistrationEvent
    | DocumentEvent
)
