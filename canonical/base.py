"""The one model base every canonical type shares.

Unknown fields are refused (a typo in a field name must not silently drop data) and values are
immutable once validated, so a case payload read back from the store is the payload accepted.
"""

from __future__ import annotations

from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator


class CanonicalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Period(CanonicalModel):
    """A closed date range; an open end is allowed only where the source system leaves it open."""

    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError("period end is before its start")
        return self
