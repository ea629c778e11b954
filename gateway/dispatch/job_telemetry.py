"""What the outbox worker tells traces and metrics about a job: the attributes of an attempt's
span, and each connector try in a span of its own with one latency sample.

Kept apart from the worker so that its control flow reads as dispatch, not as instrumentation.
"""

from __future__ import annotations

import time

from opentelemetry.trace import Span

from connectors.contract import Connector, ConnectorRequest, ConnectorResponse
from gateway.metrics import GatewayMetrics
from gateway.store.records import CaseRow, JobRow
from gateway.telemetry import (
    CASE_ID,
    CASE_TYPE,
    CONNECTOR_NAME,
    CONNECTOR_OPERATION,
    CONNECTOR_TRY,
    JOB_ATTEMPT,
    JOB_ID,
    JOB_KIND,
    PAYER_ID,
    traced,
)


def describe_job(span: Span, job: JobRow, row: CaseRow | None) -> None:
    """Ids and codes only: the case row's payload stays out of the span."""
    span.set_attribute(JOB_ID, job.id)
    span.set_attribute(JOB_KIND, job.kind)
    span.set_attribute(JOB_ATTEMPT, job.attempts)
    if job.case_id is not None:
        span.set_attribute(CASE_ID, job.case_id)
    if job.connector is not None:
        span.set_attribute(CONNECTOR_NAME, job.connector)
    if row is not None:
        span.set_attribute(CASE_TYPE, row.type)
        span.set_attribute(PAYER_ID, row.payer_id)


async def timed_send(
    connector: Connector,
    name: str,
    request: ConnectorRequest,
    try_number: int,
    metrics: GatewayMetrics,
) -> ConnectorResponse:
    """One try, named by its operation; the HTTP client's spans nest under it."""
    with traced(request.operation) as span:
        span.set_attribute(CONNECTOR_NAME, name)
        span.set_attribute(CONNECTOR_OPERATION, request.operation)
        span.set_attribute(CONNECTOR_TRY, try_number)
        span.set_attribute(CASE_ID, request.case_id)
        started = time.perf_counter()
        error_type: str | None = None
        try:
            return await connector.send(request)
        except Exception as exc:
            error_type = type(exc).__name__
            raise
        finally:
            elapsed = time.perf_counter() - started
            metrics.connector_call(name, request.operation, elapsed, error_type)
