"""SLA clocks: CMS-0057-F's 72 hours and 7 calendar days, or the payer's own, as due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from policies.book import PolicyBook
from policies.durations import EXPEDITED_CMS, STANDARD_CMS, Duration, DurationUnit
from tests.policies.conftest import case, payload

ZONES = ["UTC", "America/New_York", "America/Denver", "America/Chicago", "Australia/Lord_Howe"]
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


def due(book: PolicyBook, payer: str, urgency: str, received: datetime) -> datetime:
    return book.decide(case(payload(payer, urgency=urgency), received_at=received)).sla.due_at


def test_cms_clocks_apply_where_the_payer_sets_none(shipped_book: PolicyBook) -> None:
    received = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    expedited = shipped_book.decide(
        case(payload("NOPACK", urgency="expedited"), received_at=received)
    )
    assert (expedited.sla.due_at, expedited.sla.basis, expedited.sla.rule_id) == (
        datetime(2026, 3, 5, 9, 30, tzinfo=UTC),
        "CMS-0057-F",
        None,
    )
    assert due(shipped_book, "NOPACK", "standard", received) == datetime(
        2026, 3, 9, 9, 30, tzinfo=UTC
    )


def test_72_hours_are_elapsed_time_even_across_a_dst_change(shipped_book: PolicyBook) -> None:
    received = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # Chicago moves its clocks on March 8
    assert due(shipped_book, "ACMEHP", "expedited", received) - received == timedelta(hours=72)


def test_7_calendar_days_end_at_the_same_local_hour_across_a_dst_change(
    shipped_book: PolicyBook,
) -> None:
    received = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
    deadline = due(shipped_book, "SUNCOAST", "standard", received)
    local = deadline.astimezone(ZoneInfo("America/New_York"))
    assert (local.day, local.hour) == (9, 9)
    assert deadline - received == timedelta(days=7, hours=-1)


def test_a_payer_clock_overrides_cms(shipped_book: PolicyBook) -> None:
    received = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    decision = shipped_book.decide(case(payload("BLUEMESA"), received_at=received))
    assert (str(decision.sla.decide_within), decision.sla.basis, decision.sla.rule_id) == (
        "5 calendar days",
        "payer",
        "BM-CLOCK-STANDARD",
    )
    assert decision.sla.due_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert due(shipped_book, "BLUEMESA", "expedited", received) == received + timedelta(hours=48)


def test_escalation_rungs_are_absolute_times_from_receipt(shipped_book: PolicyBook) -> None:
    received = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    decision = shipped_book.decide(
        case(payload("ACMEHP", urgency="expedited"), received_at=received)
    )
    assert [(r.at - received, r.queue, r.role) for r in decision.escalation] == [
        (timedelta(hours=24), "acme-um", "um_nurse"),
        (timedelta(hours=48), "acme-um-leads", "um_supervisor"),
        (timedelta(hours=66), "acme-medical-director", "medical_director"),
    ]
    assert all(r.at < decision.sla.due_at for r in decision.escalation)


def test_a_clock_refuses_a_time_without_an_offset() -> None:
    with pytest.raises(ValueError, match="a clock needs a time with a UTC offset"):
        STANDARD_CMS.after(datetime(2026, 3, 2, 9, 0), ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("72 hours", "72 hours"),
        ("1 calendar day", "1 calendar day"),
        (" 30 minutes ", "30 minutes"),
    ],
)
def test_durations_read_and_print_as_written(text: str, shown: str) -> None:
    assert str(Duration.parse(text)) == shown


@pytest.mark.parametrize("text", ["72h", "0 hours", "3 fortnights", "seven calendar days"])
def test_a_malformed_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        Duration.parse(text)


@given(received=INSTANTS, zone=st.sampled_from(ZONES), hours=st.integers(1, 500))
def test_hour_clocks_are_exact_elapsed_time(received: datetime, zone: str, hours: int) -> None:
    clock = Duration(amount=hours, unit=DurationUnit.hours)
    assert clock.after(received, ZoneInfo(zone)) - received == timedelta(hours=hours)


@given(received=INSTANTS, zone=st.sampled_from(ZONES), days=st.integers(1, 30))
def test_calendar_day_clocks_keep_the_local_wall_time(
    received: datetime, zone: str, days: int
) -> None:
    place = ZoneInfo(zone)
    start = received.astimezone(place)
    wanted = start.replace(tzinfo=None) + timedelta(days=days)
    exists = wanted.replace(tzinfo=place).astimezone(UTC).astimezone(place).replace(tzinfo=None)
    assume(exists == wanted)  # a wall time inside a DST gap has no instant to land on
    deadline = Duration(amount=days, unit=DurationUnit.calendar_days).after(received, place)
    assert deadline.astimezone(place).replace(tzinfo=None) == wanted
    assert abs(deadline - received - timedelta(days=days)) <= timedelta(hours=1)


@given(received=INSTANTS, zone=st.sampled_from(ZONES))
def test_the_expedited_cms_clock_always_ends_before_the_standard_one(
    received: datetime, zone: str
) -> None:
    place = ZoneInfo(zone)
    assert EXPEDITED_CMS.after(received, place) < STANDARD_CMS.after(received, place)
