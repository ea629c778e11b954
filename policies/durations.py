"""Time frames as pack authors and regulations state them: "72 hours", "7 calendar days".

The two units are not interchangeable: 72 hours is elapsed time, while calendar days move the
wall clock of the payer's time zone, so across a daylight-saving change 7 calendar days are
167 or 169 hours. CMS-0057-F states the expedited frame in hours and the standard one in
calendar days, which is why a duration keeps its unit instead of becoming a timedelta.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

_TEXT = re.compile(r"^\s*([0-9]{1,5})\s+(minute|hour|calendar day)s?\s*$")


class DurationUnit(StrEnum):
    minutes = "minutes"
    hours = "hours"
    calendar_days = "calendar days"


_UNITS = {"minute": DurationUnit.minutes, "hour": DurationUnit.hours}


class Duration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _TEXT.match(text)
        if match is None:
            raise ValueError(
                f"'{text}' is not a duration: write e.g. '30 minutes', '72 hours' or"
                " '7 calendar days'"
            )
        amount, unit = int(match.group(1)), match.group(2)
        if amount == 0:
            raise ValueError("a duration must be longer than zero")
        return cls(amount=amount, unit=_UNITS.get(unit, DurationUnit.calendar_days))

    def after(self, start: datetime, zone: ZoneInfo) -> datetime:
        """The instant this long after `start`, in UTC; calendar days count in `zone`."""
        if start.tzinfo is None:
            raise ValueError("a clock needs a time with a UTC offset")
        if self.unit is DurationUnit.calendar_days:
            local = start.astimezone(zone) + timedelta(days=self.amount)
            return local.astimezone(UTC)
        minutes = self.amount * (60 if self.unit is DurationUnit.hours else 1)
        return start.astimezone(UTC) + timedelta(minutes=minutes)

    def nominal(self) -> timedelta:
        """The length ignoring daylight saving, for ordering durations of different units."""
        per_unit = {
            DurationUnit.minutes: timedelta(minutes=1),
            DurationUnit.hours: timedelta(hours=1),
            DurationUnit.calendar_days: timedelta(days=1),
        }
        return self.amount * per_unit[self.unit]

    def __str__(self) -> str:
        unit = self.unit.value
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


def _coerce(value: Any) -> Any:
    return Duration.parse(value) if isinstance(value, str) else value


DurationText = Annotated[
    Duration,
    BeforeValidator(_coerce),
    PlainSerializer(str, return_type=str, when_used="json"),
]

EXPEDITED_CMS = Duration(amount=72, unit=DurationUnit.hours)
STANDARD_CMS = Duration(amount=7, unit=DurationUnit.calendar_days)
