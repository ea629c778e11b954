"""`POST /fhir/notifications/{subscription}`: decisions payers push on casegate's subscriptions.

A notification is accepted only with the subscription's secret in its header (anything else is
refused with an OperationOutcome and audited); its natural key (the subscription's event
number, else the bundle id) makes a payer's resend a no-op. An accepted notification is kept
(encrypted, in the message store) and becomes an outbox job in the same transaction, and only
then answered 200: the decision is recorded on the case by the worker, through the same
recorder and lease rules as an answer to a send. A notification that is authentic but unusable
is kept with its error and answered 400, so nothing a payer sent is lost.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from litestar import Request, Response, post
from litestar.params import FromPath
from sqlalchemy.exc import IntegrityError

from canonical.decisions import Decision, DecisionOutcome
from canonical.events import transition_event
from canonical.status import DECIDED_STATUSES, CaseStatus
from gateway.audit.writer import record_refusal
from gateway.dispatch.recorder import OutcomeRecorder, SendOutcome
from gateway.dispatch.records import worker_audit
from gateway.fhir.outcomes import FHIR_EXCEPTION_HANDLERS, FhirError, fhir_response
from gateway.fhir.payer_subscriptions import (
    NOTIFICATION_PATH,
    SECRET_HEADER,
    PayerSubscription,
    find_subscription,
    secret_digest,
)
from gateway.intake import event_record
from gateway.runtime import Runtime, runtime_of
from gateway.store import cases, outbox
from gateway.store.ids import new_id
from gateway.store.records import CaseRow, JobRow, NewAuditEntry, NewJob, NewMessage
from gateway.store.schema import fhir_payer_notifications
from gateway.telemetry import current_carrier, current_trace_id
from mappings.fhir_pas import PasMappingError, read_response_bundle
from mappings.fhir_pas import vocabulary as v
from mappings.fhir_pas.errors import Issue
from mappings.fhir_pas.subscriptions import Notification, read_notification

NOTIFIED_DECISION_JOB = "fhir.notified_decision"
WIRE_FORMAT = "fhir-pas-notification"
MAX_NOTIFICATION_BYTES = 10 * 1024 * 1024
_ACCEPTED = {
    "resourceType": "OperationOutcome",
    "issue": [
        {"severity": "information", "code": "informational", "diagnostics": "notification accepted"}
    ],
}
_log = structlog.get_logger("casegate.fhir.notifications")


class NotificationNotReady(Exception):
    """The case is not yet where a payer's decision applies (its send is still being recorded);
    the job is retried."""


@post(
    f"{NOTIFICATION_PATH}/{{subscription_id:str}}",
    status_code=200,
    opt={"exclude_from_auth": True},
    request_max_body_size=MAX_NOTIFICATION_BYTES,
    exception_handlers=FHIR_EXCEPTION_HANDLERS,
    tags=["fhir"],
)
async def receive_notification(
    request: Request[Any, Any, Any], subscription_id: FromPath[str]
) -> Response[bytes]:
    runtime = runtime_of(request)
    subscription = await find_subscription(runtime, subscription_id)
    offered = request.headers.get(SECRET_HEADER, "")
    if subscription is None or not hmac.compare_digest(
        secret_digest(offered), subscription.secret_hash
    ):
        await record_refusal(request.app.state, _refusal(request, subscription_id))
        issue = Issue(SECRET_HEADER, "unknown subscription or wrong secret", "security")
        return FhirError(401, [issue]).to_response()
    body = await request.body()
    now = datetime.now(UTC)
    try:
        notification = read_notification(body)
        if not subscription.names_itself(notification.subscription):
            raise PasMappingError(
                "another subscription",
                [Issue("Bundle.entry[0].resource.parameter", "names another subscription")],
            )
        case_id = _case_of(notification)
    except PasMappingError as exc:
        await _keep(runtime, subscription, body, exc, now)
        return FhirError(400, exc.issues).to_response()
    if notification.response is None:
        return fhir_response(_ACCEPTED)  # a handshake or heartbeat: nothing to record
    row = None if case_id is None else await _routed_case(runtime, subscription, case_id)
    if row is None:
        error = PasMappingError(
            "unknown case",
            [Issue("Bundle.entry[1].resource", "names no case sent to this payer", "not-found")],
        )
        await _keep(runtime, subscription, body, error, now)
        return FhirError(422, error.issues).to_response()
    await _accept(runtime, subscription, notification, row, body, now=now)
    return fhir_response(_ACCEPTED)


NOTIFICATION_HANDLERS = [receive_notification]


async def record_notified_decision(
    runtime: Runtime, recorder: OutcomeRecorder, job: JobRow, row: CaseRow, owner: str
) -> None:
    """Move the case to the decision a kept notification carries, as a send's answer would."""
    async with runtime.store.connect() as conn:
        message = await cases.get_message(conn, runtime.store.cipher, job.payload["message_id"])
    if message is None:
        raise LookupError("the notification's message is gone")
    notification = read_notification(message.body)
    assert notification.response is not None
    decision = read_response_bundle(notification.response)
    status = CaseStatus(row.status)
    target = decision.outcome.status
    if status in (CaseStatus.draft, CaseStatus.submitted) or row.route is None:
        raise NotificationNotReady("the case's send is not recorded yet")
    subscription = await find_subscription(runtime, job.payload["subscription_id"])
    elsewhere = subscription is None or _endpoint_of(runtime, row.route) != subscription.endpoint
    if elsewhere:
        _log.warning("payer_notification_for_another_route", job_id=job.id)
    if elsewhere or status is not CaseStatus.pended or decision.outcome is DecisionOutcome.pended:
        # Sent elsewhere, decided already (a reconciliation `$inquire` got there first) or
        # still pended: nothing to move.
        async with runtime.store.begin() as conn:
            await outbox.complete_job(conn, job.id, owner)
        return
    now = datetime.now(UTC)
    events = [transition_event(row.id, status, target, now, _facts(decision))]
    outcome = SendOutcome(
        job_id=job.id,
        case_id=row.id,
        expected_version=row.version,
        status=target.value,
        decision=decision.model_dump(mode="json"),
        route=row.route,
        decided=target in DECIDED_STATUSES,
        events=[event_record(e) for e in events],
        messages=[],
        follow_up=None,
        audit=worker_audit(
            row, owner, {"notification": NOTIFIED_DECISION_JOB, "connector": job.connector}
        ),
    )
    if await recorder.record(outcome) == "conflict":
        raise NotificationNotReady("the case changed while the decision was recorded")


def _case_of(notification: Notification) -> str | None:
    """The case the response answers (`ClaimResponse.request` names it); checks the bundle."""
    if notification.response is None:
        return None
    read_response_bundle(notification.response)
    entries = notification.response.get("entry") or []
    claim_response = entries[0].get("resource") or {}
    named = ((claim_response.get("request") or {}).get("identifier")) or {}
    if named.get("system") == v.CASE_ID_SYSTEM and isinstance(named.get("value"), str):
        return str(named["value"])
    return None


async def _routed_case(
    runtime: Runtime, subscription: PayerSubscription, case_id: str
) -> CaseRow | None:
    """The case, if it went to the payer endpoint this subscription is at.

    A fast payer can decide before casegate has recorded its answer to the send, and with it
    the case's route: such a case is taken, and its route checked when the job runs.
    """
    async with runtime.store.connect() as conn:
        row = await cases.get_case(conn, case_id, None)
    if row is None:
        return None
    if row.route is None or _endpoint_of(runtime, row.route) == subscription.endpoint:
        return row
    return None


def _endpoint_of(runtime: Runtime, connector: str) -> str:
    spec = runtime.settings.connectors.get(connector)
    return str(spec.config.get("base_url", "")).rstrip("/") if spec is not None else ""


async def _accept(
    runtime: Runtime,
    subscription: PayerSubscription,
    notification: Notification,
    row: CaseRow,
    body: bytes,
    *,
    now: datetime,
) -> None:
    """Keep the notification and queue its decision, once per natural key."""
    event_key = (
        f"event:{notification.event_number}"
        if notification.event_number is not None
        else f"bundle:{notification.bundle_id}"
    )
    message = _message(row.tenant, row.id, body, None, now)
    try:
        async with runtime.store.begin() as conn:
            await conn.execute(
                sa.insert(fhir_payer_notifications).values(
                    subscription_id=subscription.id,
                    event_key=event_key,
                    case_id=row.id,
                    message_id=message.id,
                    received_at=now,
                )
            )
            await cases.add_message(conn, runtime.store.cipher, message)
            await outbox.enqueue(
                conn,
                NewJob(
                    kind=NOTIFIED_DECISION_JOB,
                    case_id=row.id,
                    connector=subscription.connector,
                    payload={"message_id": message.id, "subscription_id": subscription.id},
                    trace_context=current_carrier(),
                    available_at=now,
                ),
            )
    except IntegrityError:
        _log.info("payer_notification_repeated", subscription_id=subscription.id)


async def _keep(
    runtime: Runtime,
    subscription: PayerSubscription,
    body: bytes,
    error: PasMappingError,
    now: datetime,
) -> None:
    summary = "; ".join(f"{i.expression}: {i.diagnostics}" for i in error.issues)[:2000]
    _log.warning("payer_notification_refused", subscription_id=subscription.id)
    async with runtime.store.begin() as conn:
        await cases.add_message(
            conn, runtime.store.cipher, _message("default", None, body, summary, now)
        )


def _message(
    tenant: str, case_id: str | None, body: bytes, error: str | None, now: datetime
) -> NewMessage:
    return NewMessage(
        id=new_id(),
        tenant=tenant,
        case_id=case_id,
        direction="inbound",
        format=WIRE_FORMAT,
        body=body,
        error=error,
        created_at=now,
    )


def _facts(decision: Decision) -> dict[str, object]:
    facts: dict[str, object] = {"outcome": decision.outcome.value, "via": "notification"}
    if decision.auth_number:
        facts["auth_number"] = decision.auth_number
    if decision.reason_code:
        facts["reason_code"] = decision.reason_code
    return facts


def _refusal(request: Request[Any, Any, Any], subscription_id: str) -> NewAuditEntry:
    return NewAuditEntry(
        action="E",
        outcome="4",
        client_id=None,
        token_jti=None,
        source_address=request.client.host if request.client else None,
        case_id=None,
        patient_hash=None,
        payer_id=None,
        purpose=None,
        trace_id=current_trace_id(),
        detail={"event": "payer_notification_refused", "subscription": subscription_id[:40]},
    )
