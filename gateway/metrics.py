"""The gateway's metrics: intake, the outbox queue, attempts, dead letters, connector calls.

Labels are bounded vocabularies (case types, job kinds, connector instance names, outcomes,
error class names), never case ids or anything a caller typed: a label value becomes a time
series of its own and is kept for as long as the metrics backend keeps anything.

Exported over OTLP/HTTP when the standard endpoint variable is set; otherwise the global
provider stays OpenTelemetry's no-op one and recording costs next to nothing.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from opentelemetry import metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource

# Metric names, for dashboards and tests alike.
INTAKE_REQUESTS = "casegate.intake.requests"
JOB_ATTEMPTS = "casegate.outbox.attempts"
DEAD_LETTERS = "casegate.outbox.dead_letters"
QUEUE_DEPTH = "casegate.outbox.depth"
QUEUE_OLDEST_AGE = "casegate.outbox.oldest_age"
CONNECTOR_DURATION = "casegate.connector.duration"
CONNECTOR_ERRORS = "casegate.connector.errors"
HTTP_SERVER_DURATION = "http.server.request.duration"
WORK_QUEUE_SIZE = "casegate.work.queue_size"
WORK_QUEUE_OLDEST_AGE = "casegate.work.oldest_age"
WORK_QUEUE_OVERDUE = "casegate.work.sla_overdue"
SLA_BREACHES = "casegate.sla.breaches"
EVENT_DELIVERIES = "casegate.events.deliveries"
EVENT_DELIVERY_LAG = "casegate.events.delivery_lag"
EVENT_DEAD_LETTERS = "casegate.events.dead_letters"

METRIC_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
# Seconds; connector calls run from a few milliseconds (a sandbox) to the 30 s of a slow payer.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# The OpenTelemetry semantic conventions' buckets for HTTP server durations, in seconds.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

_configured = False


class QueueSnapshot(Protocol):
    """What the queue gauges read: the last sample of the outbox, per job kind."""

    def depth(self) -> Iterable[tuple[str, str, int]]:
        """(job kind, state, number of jobs) for each kind and state sampled."""

    def oldest_age(self) -> Iterable[tuple[str, float]]:
        """(job kind, seconds the longest-waiting due job has waited) for each kind."""


class WorkQueueSnapshot(Protocol):
    """What the work-queue gauges read: per queue (a pack's queue name), the last sample."""

    def queues(self) -> Iterable[tuple[str, int, float, int]]:
        """(queue, open items, age of the oldest in seconds, items past their SLA deadline)."""


class GatewayMetrics:
    """The instruments, made once per meter provider; see `gateway_metrics`."""

    def __init__(self, provider: MeterProvider) -> None:
        meter = provider.get_meter("casegate")
        self._snapshots: weakref.WeakSet[QueueSnapshot] = weakref.WeakSet()
        self._work_queues: weakref.WeakSet[WorkQueueSnapshot] = weakref.WeakSet()
        self._sla_breaches = meter.create_counter(
            SLA_BREACHES, unit="{case}", description="Cases whose SLA deadline passed undecided."
        )
        for name, index, unit, description in (
            (WORK_QUEUE_SIZE, 1, "{item}", "Open work items by queue."),
            (WORK_QUEUE_OLDEST_AGE, 2, "s", "Age of the oldest open work item by queue."),
            (WORK_QUEUE_OVERDUE, 3, "{item}", "Open work items past their SLA deadline."),
        ):
            meter.create_observable_gauge(
                name, callbacks=[self._work_observer(index)], unit=unit, description=description
            )
        self._deliveries = meter.create_counter(
            EVENT_DELIVERIES,
            unit="{attempt}",
            description="Event delivery attempts by outcome (delivered, retry, dead).",
        )
        self._delivery_lag = meter.create_histogram(
            EVENT_DELIVERY_LAG,
            unit="s",
            description="From an event being owed to a subscriber to its delivery.",
            explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
        )
        self._event_dead = meter.create_counter(
            EVENT_DEAD_LETTERS, unit="{event}", description="Event deliveries given up on."
        )
        self._http_duration = meter.create_histogram(
            HTTP_SERVER_DURATION,
            unit="s",
            description="Duration of API requests, by method, route template and status.",
            explicit_bucket_boundaries_advisory=_HTTP_BUCKETS,
        )
        self._intake = meter.create_counter(
            INTAKE_REQUESTS, unit="{request}", description="Intake requests by outcome."
        )
        self._attempts = meter.create_counter(
            JOB_ATTEMPTS, unit="{attempt}", description="Outbox job attempts by outcome."
        )
        self._dead = meter.create_counter(
            DEAD_LETTERS, unit="{job}", description="Jobs sent to the dead-letter queue."
        )
        self._connector_duration = meter.create_histogram(
            CONNECTOR_DURATION,
            unit="s",
            description="Duration of each connector call (one try).",
            explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS,
        )
        self._connector_errors = meter.create_counter(
            CONNECTOR_ERRORS, unit="{error}", description="Failed connector calls by error class."
        )
        meter.create_observable_gauge(
            QUEUE_DEPTH,
            callbacks=[self._observe_depth],
            unit="{job}",
            description="Outbox jobs by kind and state (pending, leased, dead).",
        )
        meter.create_observable_gauge(
            QUEUE_OLDEST_AGE,
            callbacks=[self._observe_oldest_age],
            unit="s",
            description="How long the longest-waiting due job of each kind has waited.",
        )

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._http_duration.record(
            seconds,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
            },
        )

    def intake(self, case_type: str, outcome: str) -> None:
        self._intake.add(1, {"case.type": case_type, "outcome": outcome})

    def attempt(self, kind: str, outcome: str) -> None:
        self._attempts.add(1, {"job.kind": kind, "outcome": outcome})

    def dead_letter(self, kind: str, error_type: str) -> None:
        self._dead.add(1, {"job.kind": kind, "error.type": error_type})

    def connector_call(
        self, connector: str, operation: str, seconds: float, error_type: str | None
    ) -> None:
        labels = {
            "connector.name": connector,
            "connector.operation": operation,
            "outcome": "ok" if error_type is None else "error",
        }
        self._connector_duration.record(seconds, labels)
        if error_type is not None:
            self._connector_errors.add(
                1,
                {
                    "connector.name": connector,
                    "connector.operation": operation,
                    "error.type": error_type,
                },
            )

    def event_delivery(
        self, event_type: str, subscription_id: str, outcome: str, lag_seconds: float | None
    ) -> None:
        """One delivery attempt; `lag_seconds` once delivered. Subscription ids are the
        gateway's own opaque ids: a target URL can carry a customer's name or a token."""
        labels = {"event.type": event_type, "subscription.id": subscription_id}
        self._deliveries.add(1, {**labels, "outcome": outcome})
        if lag_seconds is not None:
            self._delivery_lag.record(lag_seconds, labels)
        if outcome == "dead":
            self._event_dead.add(1, labels)

    def sla_breach(self, case_type: str, urgency: str) -> None:
        self._sla_breaches.add(1, {"case.type": case_type, "urgency": urgency})

    def watch_work_queues(self, snapshot: WorkQueueSnapshot) -> None:
        self._work_queues.add(snapshot)

    def unwatch_work_queues(self, snapshot: WorkQueueSnapshot) -> None:
        self._work_queues.discard(snapshot)

    def _work_observer(self, index: int) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            for snapshot in list(self._work_queues):
                for sample in snapshot.queues():
                    yield Observation(float(sample[index]), {"work.queue": sample[0]})

        return observe

    def watch_queue(self, snapshot: QueueSnapshot) -> None:
        """Report this snapshot's samples in the queue gauges for as long as it lives."""
        self._snapshots.add(snapshot)

    def unwatch_queue(self, snapshot: QueueSnapshot) -> None:
        self._snapshots.discard(snapshot)

    def _observe_depth(self, _: CallbackOptions) -> Iterable[Observation]:
        for snapshot in list(self._snapshots):
            for kind, state, count in snapshot.depth():
                yield Observation(count, {"job.kind": kind, "state": state})

    def _observe_oldest_age(self, _: CallbackOptions) -> Iterable[Observation]:
        for snapshot in list(self._snapshots):
            for kind, seconds in snapshot.oldest_age():
                yield Observation(seconds, {"job.kind": kind})


_by_provider: weakref.WeakKeyDictionary[MeterProvider, GatewayMetrics] = weakref.WeakKeyDictionary()


def gateway_metrics(provider: MeterProvider | None = None) -> GatewayMetrics:
    """The instruments on `provider` (the global one by default), created on first use.

    Creating an instrument twice on one provider only earns a warning, and an observable
    gauge made twice keeps its first callbacks: hence one set per provider.
    """
    provider = provider or metrics.get_meter_provider()
    found = _by_provider.get(provider)
    if found is None:
        found = _by_provider[provider] = GatewayMetrics(provider)
    return found


def metric_readers(environ: Mapping[str, str]) -> list[MetricReader]:
    """A periodic OTLP/HTTP reader when the standard endpoint variable is set; none otherwise.

    The exporter reads the rest of its settings (headers, certificates, timeout) from the
    standard OTEL_EXPORTER_OTLP_* variables itself.
    """
    if not any(environ.get(name) for name in METRIC_ENDPOINT_VARIABLES):
        return []
    return [PeriodicExportingMetricReader(OTLPMetricExporter())]


def configure_metrics(
    service_name: str = "casegate", environ: Mapping[str, str] | None = None
) -> None:
    """Install an exporting provider once per process, if there is anywhere to export to."""
    global _configured  # noqa: PLW0603 - the global provider can be set only once per process
    environ = os.environ if environ is None else environ
    if _configured:
        return
    _configured = True
    readers = metric_readers(environ)
    if not readers:
        return
    resource = Resource.create(
        {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    )
    # Exemplars (a trace id kept with some measurements) cost a lookup on every measurement.
    metrics.set_meter_provider(
        SdkMeterProvider(
            metric_readers=readers, resource=resource, exemplar_filter=AlwaysOffExemplarFilter()
        )
    )
