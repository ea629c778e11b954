"""The gateway's metrics after a few cases: names, labels and values, read as an exporter would
read them, and no case id among the label values."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    MetricsData,
    NumberDataPoint,
    Sum,
)

from connectors.sandbox import Fault
from gateway import metrics as names
from gateway.store import outbox
from tests.gateway.dispatch.conftest import SETTLED
from tests.gateway.telemetry.conftest import ObservedGateway

_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
Point = NumberDataPoint | HistogramDataPoint


def _points(data: MetricsData) -> Iterator[tuple[str, Point]]:
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if isinstance(metric.data, Sum | Gauge | Histogram):
                    for point in metric.data.data_points:
                        yield metric.name, point


def _by_labels(data: MetricsData, name: str) -> dict[frozenset[tuple[str, Any]], Point]:
    return {
        frozenset((point.attributes or {}).items()): point
        for metric, point in _points(data)
        if metric == name
    }


def _value(points: Mapping[frozenset[tuple[str, Any]], Point], **labels: Any) -> Any:
    point = points[frozenset(labels.items())]
    return point.count if isinstance(point, HistogramDataPoint) else point.value


async def _wait_for_dead_letter(observed: ObservedGateway) -> None:
    for _ in range(200):
        async with observed.live.runtime.store.connect() as conn:
            if await outbox.list_dead(conn, 10):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no job was dead-lettered")


async def test_intake_attempts_dead_letters_connector_calls_and_queue(
    observed: ObservedGateway,
) -> None:
    live = observed.live
    approved = await live.submit("m1")
    denied = await live.submit("m2", procedure_code="43644")
    await live.wait_for(approved, SETTLED)
    await live.wait_for(denied, SETTLED)
    refused = await live.api.post(
        "/v1/prior-authorizations", json={"patient": 1}, headers={"Idempotency-Key": "bad"}
    )
    assert refused.status_code == 422
    live.payer.inject(Fault.bad_request, 1)
    await live.submit("m3")
    await _wait_for_dead_letter(observed)

    data = await observed.metrics_data()
    intake = _by_labels(data, names.INTAKE_REQUESTS)
    assert _value(intake, **{"case.type": "prior_authorization", "outcome": "accepted"}) == 3
    assert _value(intake, **{"case.type": "prior_authorization", "outcome": "rejected"}) == 1
    attempts = _by_labels(data, names.JOB_ATTEMPTS)
    assert _value(attempts, **{"job.kind": "case.send", "outcome": "done"}) == 2
    assert _value(attempts, **{"job.kind": "case.send", "outcome": "dead_letter"}) == 1
    dead = _by_labels(data, names.DEAD_LETTERS)
    assert _value(dead, **{"job.kind": "case.send", "error.type": "PermanentError"}) == 1
    calls = _by_labels(data, names.CONNECTOR_DURATION)
    ok = {"connector.name": "acme", "connector.operation": "prior_auth.submit"}
    assert _value(calls, **ok, outcome="ok") == 2
    assert _value(calls, **ok, outcome="error") == 1
    errors = _by_labels(data, names.CONNECTOR_ERRORS)
    assert _value(errors, **ok, **{"error.type": "PermanentError"}) == 1
    depth = _by_labels(data, names.QUEUE_DEPTH)
    assert _value(depth, **{"job.kind": "case.send", "state": "dead"}) == 1
    assert _value(depth, **{"job.kind": "case.send", "state": "pending"}) == 0
    ages = _by_labels(data, names.QUEUE_OLDEST_AGE)
    assert _value(ages, **{"job.kind": "case.send"}) == 0.0

    requests = _by_labels(data, names.HTTP_SERVER_DURATION)
    intake_route = {"http.request.method": "POST", "http.route": "/v1/prior-authorizations"}
    assert _value(requests, **intake_route, **{"http.response.status_code": 202}) == 3
    assert _value(requests, **intake_route, **{"http.response.status_code": 422}) == 1
    reads = [labels for labels in requests if ("http.route", "/v1/cases/{case_id}") in labels]
    assert reads  # the route template, never the concrete path
    label_values = [
        str(value) for _, point in _points(data) for value in (point.attributes or {}).values()
    ]
    assert not [value for value in label_values if _ULID.search(value)]
