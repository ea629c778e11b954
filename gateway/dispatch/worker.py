"""The outbox worker: claims due jobs with a lease, sends through the routed connector, records
the answer, and retries or dead-letters what fails.

Exactly-once effect rests on three things: the idempotency key of a send is derived from the case
and the step (so a resend after a crash is recognised by the payer), a job's result is written
only while its lease is still ours (so a reclaimed job cannot be finished twice), and the case
row's version guards every status change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
from datetime import UTC, datetime

import structlog
from opentelemetry.trace import StatusCode
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from canonical.cases import CaseType
from canonical.decisions import Decision, DecisionOutcome
from canonical.events import DomainEvent, note_event, transition_event
from canonical.status import DECIDED_STATUSES, CaseStatus
from connectors.contract import ConnectorRequest, ConnectorResponse
from connectors.errors import ConnectorError, PermanentError, TransientError
from gateway.dispatch.backoff import exhausted, next_attempt_at
from gateway.dispatch.cancellation import CANCEL_JOB, tell_payer
from gateway.dispatch.job_telemetry import describe_job, timed_send
from gateway.dispatch.recorder import OutcomeRecorder, SendOutcome
from gateway.dispatch.records import exchange_messages, worker_audit
from gateway.fhir.ehr_subscriptions import EHR_NOTIFICATION_JOB
from gateway.fhir.facade_notifications import deliver_ehr_notification
from gateway.fhir.notifications import NOTIFIED_DECISION_JOB, record_notified_decision
from gateway.fhir.payer_subscriptions import follows_up_by_notification
from gateway.hl7.notify import NOTIFY_JOB, notify_ehr
from gateway.intake import FOLLOW_UP_JOB, SEND_JOB, event_record
from gateway.invoices.flow import (
    INVOICE_POST_JOB,
    InvoiceStep,
    post_approved_invoice,
    send_invoice,
)
from gateway.metrics import GatewayMetrics, gateway_metrics
from gateway.orchestration import follow_ups, routing
from gateway.runtime import Runtime
from gateway.settings import RetryPolicy
from gateway.store import cases, outbox
from gateway.store.ids import new_id
from gateway.store.records import CaseRow, JobRow, NewJob
from gateway.telemetry import (
    DECISION_OUTCOME,
    ERROR_TYPE,
    OUTCOME,
    context_from,
    current_carrier,
    traced,
)

_log = structlog.get_logger("casegate.worker")

SUBMIT_OPERATIONS: dict[str, str] = {
    CaseType.prior_authorization: "prior_auth.submit",
    CaseType.eligibility_check: "eligibility.check",
    CaseType.claim_status: "claim_status.inquire",
    CaseType.invoice_exception: "erp.post",
}
INQUIRE_OPERATION = "prior_auth.inquire"


class DeadLetter(Exception):
    """A job that must not be tried again as it is; its reason is PHI-free."""


class SendFailed(Exception):
    """A connector error, with the retry policy of the connector that raised it."""

    def __init__(self, error: ConnectorError, policy: RetryPolicy) -> None:
        super().__init__(error.reason)
        self.error = error
        self.policy = policy


def _quick_retry(exc: BaseException) -> bool:
    # A long Retry-After means the payer wants us gone for a while: reschedule durably instead.
    return isinstance(exc, TransientError) and (exc.retry_after or 0) <= 1


class OutboxWorker:
    def __init__(
        self, runtime: Runtime, owner: str | None = None, *, metrics: GatewayMetrics | None = None
    ) -> None:
        self._runtime = runtime
        self._metrics = metrics or gateway_metrics()
        self._settings = runtime.settings.workers
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self._active: dict[int, asyncio.Task[None]] = {}
        self._recorder = OutcomeRecorder(runtime.store, self.owner)

    async def run(self, stop: asyncio.Event) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        await self._recorder.start()
        try:
            while not stop.is_set():
                free = self._settings.concurrency - len(self._active)
                jobs = []
                if free > 0:
                    jobs = await outbox.claim_jobs(
                        self._runtime.store, self.owner, free, self._settings.lease_seconds
                    )
                rows = await self._load_cases(jobs)
                for job in jobs:
                    task = asyncio.create_task(self._process(job, rows.get(job.case_id or "")))
                    self._active[job.id] = task
                    task.add_done_callback(functools.partial(self._forget, job.id))
                if not jobs:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._settings.poll_interval_seconds)
        finally:
            heartbeat.cancel()
            if self._active:
                await asyncio.gather(*self._active.values(), return_exceptions=True)
            await self._recorder.stop()

    async def _load_cases(self, jobs: list[JobRow]) -> dict[str, CaseRow]:
        if not jobs:
            return {}
        async with self._runtime.store.connect() as conn:
            return await cases.get_cases(conn, [j.case_id for j in jobs if j.case_id])

    def _forget(self, job_id: int, _: asyncio.Task[None]) -> None:
        self._active.pop(job_id, None)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        interval = self._settings.lease_seconds / 3
        while not stop.is_set():
            await asyncio.sleep(interval)
            if self._active:
                await outbox.heartbeat(
                    self._runtime.store,
                    self.owner,
                    list(self._active),
                    self._settings.lease_seconds,
                )

    async def _process(self, job: JobRow, row: CaseRow | None) -> None:
        """One attempt at one job, in a span that continues the trace of the job's origin."""
        with (
            traced(job.kind, parent=context_from(job.trace_context)) as span,
            structlog.contextvars.bound_contextvars(
                case_id=job.case_id, job_id=job.id, job_kind=job.kind
            ),
        ):
            describe_job(span, job, row)
            outcome, error_type = await self._attempt(job, row)
            span.set_attribute(OUTCOME, outcome)
            if error_type is not None:
                span.set_status(StatusCode.ERROR)
                span.set_attribute(ERROR_TYPE, error_type)
            self._metrics.attempt(job.kind, outcome)

    async def _attempt(self, job: JobRow, row: CaseRow | None) -> tuple[str, str | None]:
        """The attempt's outcome (done, retry, dead_letter) and, if it failed, the error class."""
        try:
            await self._dispatch(job, row)
        except DeadLetter as exc:
            return await self._dead_letter(job, str(exc), type(exc).__name__), type(exc).__name__
        except SendFailed as failed:
            error_type = type(failed.error).__name__
            if isinstance(failed.error, PermanentError):
                return await self._dead_letter(job, failed.error.reason, error_type), error_type
            retry_after = getattr(failed.error, "retry_after", None)
            outcome = await self._retry(
                job, failed.policy, failed.error.reason, retry_after, error_type
            )
            return outcome, error_type
        except Exception as exc:
            error_type = type(exc).__name__
            _log.exception("job_failed", job_id=job.id, error_type=error_type)
            default = self._runtime.settings.retry_policies["default"]
            return await self._retry(job, default, error_type, None, error_type), error_type
        return "done", None

    async def _dispatch(self, job: JobRow, row: CaseRow | None) -> None:
        if job.case_id is None:
            raise DeadLetter(f"job kind {job.kind} has no case")
        if row is None:
            raise DeadLetter("the job's case does not exist")
        if job.kind == SEND_JOB:
            await self._send(job, row)
        elif job.kind == FOLLOW_UP_JOB:
            await self._follow_up(job, row)
        elif job.kind == NOTIFY_JOB:
            await notify_ehr(self._runtime, job, row, self._call, self.owner)
        elif job.kind == EHR_NOTIFICATION_JOB:
            await self._notify_fhir_subscriber(job, row)
        elif job.kind == CANCEL_JOB:
            await tell_payer(self._runtime, job, row, self._call, self.owner)
        elif job.kind == NOTIFIED_DECISION_JOB:
            await record_notified_decision(self._runtime, self._recorder, job, row, self.owner)
        elif job.kind == INVOICE_POST_JOB:
            await post_approved_invoice(self._invoice_step(job), row)
        else:
            raise DeadLetter(f"unknown job kind {job.kind}")

    async def _notify_fhir_subscriber(self, job: JobRow, row: CaseRow) -> None:
        settings = self._runtime.settings
        try:
            await deliver_ehr_notification(self._runtime, job, row)
        except ConnectorError as exc:
            policy = settings.retry_policies[settings.fhir.notification_retry_policy]
            raise SendFailed(exc, policy) from exc
        await self._finish(job)

    def _invoice_step(self, job: JobRow) -> InvoiceStep:
        return InvoiceStep(self._runtime, job, self._call, self.owner)

    async def _call(self, name: str, request: ConnectorRequest) -> ConnectorResponse:
        connector = await self._runtime.connectors.get(name)
        if request.operation not in connector.capabilities:
            raise DeadLetter(f"connector {name} cannot {request.operation}")
        settings = self._runtime.settings
        policy = settings.retry_policies[settings.connectors[name].retry_policy]
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(policy.tries_per_attempt),
                wait=wait_exponential(multiplier=policy.quick_retry_seconds, max=2),
                retry=retry_if_exception(_quick_retry),
                reraise=True,
            ):
                with attempt:
                    try_number = attempt.retry_state.attempt_number
                    return await timed_send(connector, name, request, try_number, self._metrics)
        except ConnectorError as exc:
            raise SendFailed(exc, policy) from exc
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _send(self, job: JobRow, row: CaseRow) -> None:
        status = CaseStatus(row.status)
        resumed = status is CaseStatus.more_info_requested and job.payload.get("resumed")
        if status is not CaseStatus.draft and not resumed:
            # Already sent (a retry after the answer was recorded) or cancelled meanwhile.
            await self._finish(job)
            return
        candidates = routing.route_candidates(
            self._runtime.settings,
            job.payload.get(routing.ROUTE_KEY, []),
            row.payer_id,
            CaseType(row.type),
        )
        name = job.connector or (candidates[0] if candidates else None)
        if name is None:
            raise DeadLetter(f"no route for payer {row.payer_id} and case type {row.type}")
        if row.type == CaseType.invoice_exception:
            await send_invoice(self._invoice_step(job), row, name)
            return
        operation = SUBMIT_OPERATIONS.get(row.type)
        if operation is None:
            raise DeadLetter(f"no connector operation submits a {row.type} case")
        request = ConnectorRequest(
            operation=operation,
            idempotency_key=f"{row.id}:{operation}",
            case_id=row.id,
            case_type=row.type,
            payload=row.payload,
            headers=current_carrier(),
        )
        try:
            response = await self._call(name, request)
        except SendFailed as failed:
            fallback = routing.next_candidate(candidates, name)
            if fallback is None or not isinstance(failed.error, TransientError):
                raise
            await self._reroute(job, row, name, fallback, failed.error.reason)
            return
        now = datetime.now(UTC)
        events = [transition_event(row.id, status, CaseStatus.submitted, now, {"route": name})]
        await self._record(
            job, row, name, response, events=events, status=CaseStatus.submitted, now=now
        )

    async def _follow_up(self, job: JobRow, row: CaseRow) -> None:
        status = CaseStatus(row.status)
        if status is not CaseStatus.pended:
            await self._finish(job)
            return
        name = job.connector or row.route
        if name is None:
            raise DeadLetter("a pended case without a route cannot be followed up")
        request = ConnectorRequest(
            operation=INQUIRE_OPERATION,
            idempotency_key=f"{row.id}:{INQUIRE_OPERATION}:{job.id}",
            case_id=row.id,
            case_type=row.type,
            payload=row.payload,
            payer_reference=job.payload.get("payer_reference"),
            headers=current_carrier(),
        )
        response = await self._call(name, request)
        await self._record(
            job, row, name, response, events=[], status=status, now=datetime.now(UTC)
        )

    async def _record(
        self,
        job: JobRow,
        row: CaseRow,
        name: str,
        response: ConnectorResponse,
        *,
        events: list[DomainEvent],
        status: CaseStatus,
        now: datetime,
    ) -> None:
        """Map the far side's answer onto the case (events, status, follow-up) and store it."""
        with traced("case.record") as span:
            if response.left_out:
                # What the wire format could not carry (pointers and fixed reasons: no PHI).
                left_out = [{"pointer": p, "reason": r} for p, r in response.left_out]
                facts = {"wire_format": response.wire_format, "left_out": left_out}
                events.append(note_event(row.id, status, "left_out", now, facts))
            if response.data is not None and row.type == CaseType.eligibility_check:
                # The decision column holds its summary; the whole result stays with the case.
                result = dict(response.data)
                events.append(note_event(row.id, status, "eligibility_result", now, result))
            decision = response.decision
            follow_up: NewJob | None = None
            if decision is not None:
                span.set_attribute(DECISION_OUTCOME, decision.outcome.value)
                target = decision.outcome.status
                if target is not status:
                    events.append(
                        transition_event(row.id, status, target, now, _decision_facts(decision))
                    )
                    status = target
                if decision.outcome is DecisionOutcome.pended and not follows_up_by_notification(
                    self._runtime.settings, name
                ):
                    follow_up = await self._follow_up_job(job, row.id, name, response, now)
            outcome = SendOutcome(
                job_id=job.id,
                case_id=row.id,
                expected_version=row.version,
                status=status.value,
                decision=decision.model_dump(mode="json") if decision else row.decision,
                route=name,
                decided=status in DECIDED_STATUSES,
                events=[event_record(e) for e in events],
                messages=exchange_messages(row, response, response.wire_format, now),
                follow_up=follow_up,
                audit=worker_audit(row, self.owner, {"send": job.kind, "connector": name}),
            )
            if await self._recorder.record(outcome) == "conflict":
                raise TransientError("the case changed during the send; will retry")

    async def _follow_up_job(
        self, job: JobRow, case_id: str, connector: str, response: ConnectorResponse, now: datetime
    ) -> NewJob | None:
        facts = follow_ups.follow_up_facts(job.kind, job.payload, now)
        fixed = self._settings.pended_follow_up_seconds
        due = await follow_ups.follow_up_at(self._runtime.store, case_id, facts, now, fixed)
        if due is None:  # the pack's cadence is used up; the SLA sweeper escalates from here
            return None
        return NewJob(
            kind=FOLLOW_UP_JOB,
            case_id=case_id,
            connector=connector,
            payload={"payer_reference": response.payer_reference, **facts},
            trace_context=current_carrier(),
            available_at=due,
        )

    async def _reroute(
        self, job: JobRow, row: CaseRow, down: str, fallback: str, reason: str
    ) -> None:
        """The routed connector is down: the same send goes to the next route, at once."""
        now = datetime.now(UTC)
        _log.warning("send_rerouted", job_id=job.id, connector=down, fallback=fallback)
        facts = {"from": down, "to": fallback, "reason": reason}
        event = note_event(row.id, CaseStatus(row.status), "rerouted", now, facts)
        async with self._runtime.store.begin() as conn:
            moved = await routing.move_job(
                conn,
                job.id,
                owner=self.owner,
                connector=fallback,
                payload=job.payload,
                reason=reason,
                now=now,
            )
            if moved:
                await cases.append_event(conn, event_record(event))

    async def _finish(self, job: JobRow) -> None:
        async with self._runtime.store.begin() as conn:
            await outbox.complete_job(conn, job.id, self.owner)

    async def _retry(
        self,
        job: JobRow,
        policy: RetryPolicy,
        reason: str,
        retry_after: float | None,
        error_type: str,
    ) -> str:
        if exhausted(policy, job.attempts):
            reason = f"gave up after {job.attempts} attempts: {reason}"
            return await self._dead_letter(job, reason, error_type)
        when = next_attempt_at(policy, job.attempts, datetime.now(UTC), retry_after)
        _log.info("job_retry", job_id=job.id, attempts=job.attempts, reason=reason)
        async with self._runtime.store.begin() as conn:
            await outbox.retry_job(conn, job.id, self.owner, reason, when)
        return "retry"

    async def _dead_letter(self, job: JobRow, reason: str, error_type: str) -> str:
        _log.warning("job_dead_lettered", job_id=job.id, reason=reason)
        self._metrics.dead_letter(job.kind, error_type)
        async with self._runtime.store.begin() as conn:
            if not await outbox.dead_letter(conn, job.id, self.owner, reason):
                return "dead_letter"
            if job.case_id is None:
                return "dead_letter"
            row = await cases.get_case(conn, job.case_id, None)
            if row is not None:
                event = note_event(
                    row.id,
                    CaseStatus(row.status),
                    "send_failed",
                    datetime.now(UTC),
                    {"reason": reason},
                )
                await cases.append_event(conn, event_record(event))
        return "dead_letter"


def _decision_facts(decision: Decision) -> dict[str, object]:
    """What subscribers need from a decision, without the clinical payload."""
    facts: dict[str, object] = {"outcome": decision.outcome.value}
    if decision.auth_number:
        facts["auth_number"] = decision.auth_number
    if decision.reason_code:
        facts["reason_code"] = decision.reason_code
    if decision.authorized_period is not None:
        facts["authorized_from"] = decision.authorized_period.start.isoformat()
        if decision.authorized_period.end is not None:
            facts["authorized_to"] = decision.authorized_period.end.isoformat()
    return facts
