"""Properties of the payer_rest response parser over generated input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from canonical.base import Period
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from mappings.payer_rest import PayerResponseError, parse_decision, render_decision
from mappings.payer_rest.vocabulary import DECISION_STATUS, SERVICE_STATUS

KEYS = [
    "requestId",
    "referenceNumber",
    "status",
    "authorizationNumber",
    "validFrom",
    "validTo",
    "reason",
    "code",
    "text",
    "decidedAt",
    "services",
    "sequence",
    "approvedQuantity",
    "reasonCode",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from([*DECISION_STATUS, *SERVICE_STATUS])
    | st.dates().map(date.isoformat)
    | st.datetimes().map(datetime.isoformat)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_parser_raises_only_its_own_error(document: Any) -> None:
    try:
        decision = parse_decision(document)
    except PayerResponseError as exc:
        assert exc.pointer == "" or exc.pointer.startswith("/")
    else:
        assert isinstance(decision, Decision)


codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
words = st.text(alphabet="abcdefghij klmnop.,", min_size=1, max_size=60).map(str.strip).filter(bool)


@st.composite
def decisions(draw: st.DrawFn) -> Decision:
    outcome = draw(st.sampled_from(DecisionOutcome))
    approval = outcome in (DecisionOutcome.approved, DecisionOutcome.partially_approved)
    needs_reason = outcome in (DecisionOutcome.denied, DecisionOutcome.more_info_requested)
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)))
    sequences = draw(st.lists(st.integers(1, 999), unique=True, max_size=5))
    items = [
        ItemDecision(
            sequence=seq,
            action=draw(st.sampled_from(ReviewAction)),
            authorized_units=draw(st.none() | st.decimals(0, 9999, places=2)),
            reason_code=draw(st.none() | codes),
        )
        for seq in sequences
    ]
    if outcome is DecisionOutcome.partially_approved and not items:
        items = [
            ItemDecision(sequence=1, action=ReviewAction.modified, authorized_units=Decimal(1))
        ]
    moment = draw(st.none() | st.datetimes(min_value=datetime(2020, 1, 1), timezones=st.just(UTC)))
    return Decision(
        outcome=outcome,
        auth_number=draw(codes) if approval else None,
        authorized_period=(
            Period(start=start, end=start + timedelta(days=draw(st.integers(0, 400))))
            if approval
            else None
        ),
        reason_code=draw(codes) if needs_reason else draw(st.none() | codes),
        reason_text=draw(st.none() | words),
        payer_reference=draw(codes),
        items=items,
        decided_at=moment,
    )


@settings(max_examples=200, deadline=None)
@given(decisions())
def test_render_then_parse_is_identity(decision: Decision) -> None:
    assert parse_decision(render_decision(decision, request_id="case-1")) == decision
