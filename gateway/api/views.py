"""Response shapes of the case API, declared so the OpenAPI document says exactly what we send."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from canonical.clinical import MAX_ATTACHMENT_BYTES
from gateway.store.records import CaseRow, EventRow


class View(BaseModel):
    """Base of every API body: a field we do not declare is refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Links(View):
    self: str
    events: str


class Accepted(View):
    id: str
    status: str
    links: Links


class CaseView(View):
    id: str
    type: str
    status: str
    version: int
    payer_id: str
    urgency: str
    route: str | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    payload: dict[str, Any]
    decision: dict[str, Any] | None
    links: Links

    @classmethod
    def of(cls, row: CaseRow) -> CaseView:
        links = Links(self=f"/v1/cases/{row.id}", events=f"/v1/cases/{row.id}/events")
        fields = {name: getattr(row, name) for name in cls.model_fields if name != "links"}
        return cls(**fields, links=links)


class CaseSummary(View):
    """A list row: no payload, so a page of cases is not a page of PHI."""

    id: str
    type: str
    status: str
    payer_id: str
    urgency: str
    route: str | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, row: CaseRow) -> CaseSummary:
        return cls.model_validate(row, from_attributes=True)


class CasePage(View):
    items: list[CaseSummary]
    next_cursor: str | None


class EventView(View):
    seq: int
    type: str
    from_status: str | None
    to_status: str
    occurred_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, row: EventRow) -> EventView:
        return cls.model_validate(row, from_attributes=True)


class CancelRequest(View):
    reason: str | None = Field(default=None, max_length=500)


class AttachmentUpload(View):
    kind: str = Field(pattern=r"^[A-Z0-9]{2}$", description="X12 PWK01 report type code.")
    media_type: str = Field(pattern=r"^[a-z]+/[a-z0-9.+\-]+$", max_length=100)
    title: str = Field(min_length=1, max_length=200)
    data: str = Field(description="The document, base64-encoded.", min_length=1)

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            decoded = base64.b64decode(value, validate=True)
        except ValueError:
            raise ValueError("data is not valid base64") from None
        if len(decoded) > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"the document is larger than {MAX_ATTACHMENT_BYTES} bytes")
        return value

    def content(self) -> bytes:
        return base64.b64decode(self.data)
