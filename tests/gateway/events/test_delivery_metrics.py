"""Delivery metrics from the real delivery worker: attempts by outcome, lag and dead letters,
labelled by event type and subscription id only (a target URL never becomes a label)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.metrics.export import HistogramDataPoint, NumberDataPoint

from gateway.metrics import EVENT_DEAD_LETTERS, EVENT_DELIVERIES, EVENT_DELIVERY_LAG
from tests.gateway.events.conftest import EventsGateway

APPROVED = ["case.opened", "case.submitted", "authorization.approved"]
EVENT_METRICS = (EVENT_DELIVERIES, EVENT_DELIVERY_LAG, EVENT_DEAD_LETTERS)


def _points(gw: EventsGateway, name: str) -> Iterator[Any]:
    data = gw.metrics.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    yield from metric.data.data_points


def _counts(gw: EventsGateway, name: str) -> Counter[tuple[tuple[str, Any], ...]]:
    counts: Counter[tuple[tuple[str, Any], ...]] = Counter()
    for point in _points(gw, name):
        assert isinstance(point, NumberDataPoint)
        counts[tuple(sorted((point.attributes or {}).items()))] += int(point.value)
    return counts


async def test_deliveries_lag_and_dead_letters_are_counted(events_gateway: EventsGateway) -> None:
    gw = events_gateway
    gw.receiver.behave("failing", status=500)
    healthy = (await gw.subscribe("healthy"))["id"]
    failing = (await gw.subscribe("failing"))["id"]
    await gw.submit("m1")
    await gw.receiver.wait_delivered("healthy", len(APPROVED))
    await gw.wait_deliveries(healthy, "delivered", len(APPROVED))
    await gw.wait_deliveries(failing, "dead", 1)

    deliveries = _counts(gw, EVENT_DELIVERIES)
    for kind in APPROVED:
        labels = (("event.type", kind), ("outcome", "delivered"), ("subscription.id", healthy))
        assert deliveries[labels] == 1
    opened = (("event.type", "case.opened"), ("subscription.id", failing))
    # The tests' retry policy allows 3 attempts: two retries, then dead.
    assert deliveries[(*opened[:1], ("outcome", "retry"), *opened[1:])] == 2
    assert deliveries[(*opened[:1], ("outcome", "dead"), *opened[1:])] == 1
    assert _counts(gw, EVENT_DEAD_LETTERS) == Counter({opened: 1})

    lags = [p for p in _points(gw, EVENT_DELIVERY_LAG)]
    assert all(isinstance(p, HistogramDataPoint) for p in lags)
    assert sum(p.count for p in lags) == len(APPROVED)
    assert {p.attributes["subscription.id"] for p in lags} == {healthy}
    assert all(p.min >= 0 and p.max < 20 for p in lags)

    for name in EVENT_METRICS:
        for point in _points(gw, name):
            attributes = dict(point.attributes or {})
            assert set(attributes) <= {"event.type", "subscription.id", "outcome"}
            assert not any(gw.receiver.url("") in str(v) for v in attributes.values())
