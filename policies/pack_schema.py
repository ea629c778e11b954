"""The shape of a pack file, as pydantic models that refuse unknown fields.

This checks only what one field can tell about itself (a duration parses, a PWK01 code exists,
a channel kind is known); what needs the whole pack (codes, overlaps, unreachable rows, rule
ids named by examples) is checked when the pack is compiled.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from canonical.cases import CaseType
from policies.code_systems import PWK01_REPORT_TYPES
from policies.decision import ChannelKind, HoldKind
from policies.durations import DurationText
from policies.required_fields import REQUIRED_FIELDS

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=64)]
RuleId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
Version = Annotated[
    str, Field(pattern=r"^[0-9]+(\.[0-9]+){1,3}([-+][0-9A-Za-z.\-]+)?$", max_length=40)
]
Entry = str | int


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableName(StrEnum):
    """The tables of a pack, in the order a decision consults them."""

    prior_auth = "prior_auth"
    documents = "documents"
    human_review = "human_review"
    routing = "routing"
    clocks = "clocks"


class Excluding(_Strict):
    """Every value except these (a line without a value counts as "except")."""

    values: list[Entry] = Field(alias="not", min_length=1)


SetCondition = Annotated[list[Entry], Field(min_length=1)] | Excluding


class NumberRange(_Strict):
    at_least: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.at_least is None and self.below is None:
            raise ValueError("give at_least, below or both")
        if self.at_least is not None and self.below is not None and self.below <= self.at_least:
            raise ValueError("below must be greater than at_least")
        return self


class When(_Strict):
    """A row's conditions, all of which must hold; a column left out matches anything."""

    case_type: SetCondition | None = None
    urgency: SetCondition | None = None
    procedure: dict[str, Annotated[list[Entry], Field(min_length=1)]] | None = None
    place_of_service: SetCondition | None = None
    drug_class: SetCondition | None = None
    units: NumberRange | None = None
    has_drug: bool | None = None
    auth_required: bool | None = None
    amount: NumberRange | None = None
    confidence: NumberRange | None = None
    missing_documents: NumberRange | None = None
    missing_fields: NumberRange | None = None


def _known_report_type(code: str) -> str:
    if code not in PWK01_REPORT_TYPES:
        raise ValueError(f"'{code}' is not an X12 PWK01 report type code")
    return code


def _known_field(name: str) -> str:
    if name not in REQUIRED_FIELDS:
        known = ", ".join(sorted(REQUIRED_FIELDS))
        raise ValueError(f"unknown field '{name}' (known: {known})")
    return name


class PriorAuthThen(_Strict):
    required: bool


class DocumentsThen(_Strict):
    attachments: list[Annotated[str, AfterValidator(_known_report_type)]] = []
    fields: list[Annotated[str, AfterValidator(_known_field)]] = []

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.attachments and not self.fields:
            raise ValueError("a documents row requires at least one attachment or field")
        return self


class HumanReviewThen(_Strict):
    hold: HoldKind
    queue: Name
    role: Name


class RouteEntry(_Strict):
    channel: ChannelKind | None = None
    connector: Name | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.channel is None) == (self.connector is None):
            raise ValueError("a route entry names either a channel or a connector")
        return self


class RoutingThen(_Strict):
    channels: list[RouteEntry] = Field(min_length=1, max_length=8)


class FollowUpThen(_Strict):
    first_after: DurationText
    every: DurationText
    limit: int = Field(ge=1, le=50)


class RungThen(_Strict):
    after: DurationText
    queue: Name
    role: Name


class ClocksThen(_Strict):
    decide_within: DurationText | None = None
    follow_up: FollowUpThen | None = None
    escalation: list[RungThen] = Field(default_factory=list, max_length=10)

    @field_validator("escalation")
    @classmethod
    def _ladder_climbs(cls, rungs: list[RungThen]) -> list[RungThen]:
        steps = [rung.after.nominal() for rung in rungs]
        if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
            raise ValueError("escalation rungs must come later and later")
        return rungs


ThenT = TypeVar("ThenT", bound=_Strict)


class Row(_Strict, Generic[ThenT]):
    id: RuleId
    when: When = Field(default_factory=When)
    then: ThenT
    why: str = Field(min_length=1, max_length=500)


class Tables(_Strict):
    prior_auth: list[Row[PriorAuthThen]] = Field(min_length=1)
    documents: list[Row[DocumentsThen]] = []
    human_review: list[Row[HumanReviewThen]] = []
    routing: list[Row[RoutingThen]] = Field(min_length=1)
    clocks: list[Row[ClocksThen]] = []


class Expectation(_Strict):
    """What an example's decision must show; a key left out is not checked."""

    auth_required: bool | None = None
    complete: bool | None = None
    missing: list[str] | None = None
    hold: list[HoldKind] | None = None
    route: list[str] | None = None
    sla_due_at: AwareDatetime | None = None
    fired: list[str] | None = None

    @model_validator(mode="after")
    def _checks_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("an example must expect something")
        return self


class ExampleCase(_Strict):
    name: str = Field(min_length=1, max_length=120)
    case_type: CaseType = CaseType.prior_authorization
    received_at: AwareDatetime
    confidence: float | None = Field(default=None, ge=0, le=1)
    estimated_amount: Decimal | None = Field(default=None, ge=0)
    use_base: bool = True
    case: dict[str, Any] = {}
    expect: Expectation


class Examples(_Strict):
    base: dict[str, Any] = {}
    cases: list[ExampleCase] = Field(min_length=1)


class PackFile(_Strict):
    id: Name
    payer: str = Field(pattern=r"^(\*|[A-Za-z0-9._\-]{1,80})$")
    name: str = Field(min_length=1, max_length=200)
    version: Version
    time_zone: str = "UTC"
    drug_classes: dict[Name, Annotated[list[Entry], Field(min_length=1)]] = {}
    tables: Tables
    examples: Examples | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value
