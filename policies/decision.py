"""What a policy decision tells the gateway, and what it needs to know about a case.

The decision is a value the workers store with the case: every deadline in it is an absolute
time computed from the received time, so SLA clocks, follow-ups and escalations survive a
restart without timers, and the pack version plus the fired rule ids answer "why did this case
go there?" long after the pack has changed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from canonical.cases import PAYLOAD_MODELS, CasePayload, CaseType, Urgency
from policies.durations import DurationText


class ChannelKind(StrEnum):
    """Wire channels a route may ask for; the gateway maps each to connector instances."""

    fhir_pas = "fhir_pas"
    x12_278 = "x12_278"
    payer_rest = "payer_rest"


class HoldKind(StrEnum):
    """Why a person must look at a case before anything goes to the payer."""

    missing_documents = "missing_documents"
    missing_fields = "missing_fields"
    low_confidence = "low_confidence"
    policy_exception = "policy_exception"
    amount_over_threshold = "amount_over_threshold"


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyCase(_Value):
    """A case as policies see it: the canonical payload plus what intake measured about it."""

    case_type: CaseType = CaseType.prior_authorization
    payload: CasePayload
    received_at: AwareDatetime
    confidence: float | None = Field(
        default=None, ge=0, le=1, description="How sure intake is of the mapped data (0..1)."
    )
    estimated_amount: Decimal | None = Field(
        default=None, ge=0, description="Expected cost in dollars, where a pricing step knows it."
    )

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Self:
        expected = PAYLOAD_MODELS[self.case_type]
        if not isinstance(self.payload, expected):
            raise ValueError(f"payload is not a {self.case_type.value} request")
        return self

    @classmethod
    def of(cls, case_type: CaseType, payload: Any, received_at: datetime, **signals: Any) -> Self:
        """Validate a raw payload as the model of its case type (a union would guess)."""
        model = PAYLOAD_MODELS[case_type].model_validate(payload)
        return cls(case_type=case_type, payload=model, received_at=received_at, **signals)


class RouteTarget(_Value):
    kind: Literal["channel", "connector"]
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class MissingItem(_Value):
    kind: Literal["attachment", "field"]
    code: str = Field(description="PWK01 report type code, or the field's name.")
    description: str
    lines: list[int] = Field(description="Service line sequences that need it; empty: the case.")
    rule_ids: list[str]

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}"


class HoldReason(_Value):
    hold: HoldKind
    queue: str
    role: str
    rule_id: str
    detail: str


class SlaClock(_Value):
    urgency: Urgency
    decide_within: DurationText
    basis: Literal["CMS-0057-F", "payer"]
    rule_id: str | None
    due_at: AwareDatetime


class FollowUpCadence(_Value):
    first_after: DurationText
    every: DurationText
    limit: int
    rule_id: str


class EscalationRung(_Value):
    after: DurationText
    at: AwareDatetime
    queue: str
    role: str
    rule_id: str


class FiredRule(_Value):
    rule_id: str
    table: str
    line: int | None = Field(description="The service line sequence; None for the whole case.")
    source: str = Field(description="file:line of the rule in its pack.")
    explanation: str


class PolicyDecision(_Value):
    pack_id: str
    pack_version: str
    pack_digest: str = Field(description="sha256 prefix of the pack file that decided.")
    payer_id: str
    case_type: CaseType
    received_at: AwareDatetime
    time_zone: str
    auth_required: bool
    auth_required_lines: list[int]
    complete: bool
    missing: list[MissingItem]
    route: list[RouteTarget]
    sla: SlaClock
    follow_up: FollowUpCadence | None
    escalation: list[EscalationRung]
    hold_for_human: bool
    hold_reasons: list[HoldReason]
    fired: list[FiredRule]

    def follow_up_times(self, pended_at: datetime) -> list[datetime]:
        """When to follow up a case the payer pended at `pended_at`, per the pack's cadence."""
        if self.follow_up is None:
            return []
        zone = ZoneInfo(self.time_zone)
        times = [self.follow_up.first_after.after(pended_at, zone)]
        while len(times) < self.follow_up.limit:
            times.append(self.follow_up.every.after(times[-1], zone))
        return times
