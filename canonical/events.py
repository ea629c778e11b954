"""Domain events: one for every status transition, plus facts that change no status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.status import CaseStatus, check_transition


class DomainEvent(CanonicalModel):
    type: str = Field(pattern=r"^case\.[a-z_.]+$")
    case_id: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


def case_created(
    case_id: str, status: CaseStatus, at: datetime, data: dict[str, Any] | None = None
) -> DomainEvent:
    return DomainEvent(
        type="case.created",
        case_id=case_id,
        from_status=None,
        to_status=status,
        occurred_at=at,
        data=data or {},
    )


def transition_event(
    case_id: str,
    current: CaseStatus,
    target: CaseStatus,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    """The only way to produce a status-changing event, so an illegal move cannot be recorded."""
    check_transition(current, target)
    return DomainEvent(
        type=f"case.{target.value}",
        case_id=case_id,
        from_status=current,
        to_status=target,
        occurred_at=at,
        data=data or {},
    )


def note_event(
    case_id: str, status: CaseStatus, kind: str, at: datetime, data: dict[str, Any]
) -> DomainEvent:
    """A fact about the case (attachment added, send retried) that leaves its status alone."""
    return DomainEvent(
        type=f"case.{kind}",
        case_id=case_id,
        from_status=status,
        to_status=status,
        occurred_at=at,
        data=data,
    )
