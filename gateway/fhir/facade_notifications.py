"""Telling an EHR its claim was decided, as a PAS payer would: a rest-hook POST of an R4
Backport notification (a `history` Bundle: SubscriptionStatus, then the full PAS Response
Bundle, spec-61).

The outbox worker runs this for each `fhir.ehr_notification` job; HTTP outcomes are classified
like a connector's (429/5xx/timeouts transient and retried with backoff, other 4xx permanent),
so a slow or broken EHR endpoint waits in its own jobs and holds back nothing else.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from canonical.status import DECIDED_STATUSES, CaseStatus
from connectors.errors import PermanentError
from connectors.http import error_for_status, error_for_transport
from gateway.fhir.capability import PAS_TOPIC
from gateway.fhir.ehr_subscriptions import EhrSubscription, get_subscription
from gateway.fhir.facade_intake import find_by_case
from gateway.fhir.facade_responses import response_bundle, stored_request
from gateway.fhir.outcomes import FHIR_JSON
from gateway.intake import Caller
from gateway.runtime import Runtime
from gateway.store import cases
from gateway.store.ids import new_id
from gateway.store.records import CaseRow, JobRow, NewMessage
from gateway.telemetry import current_carrier, current_trace_id

NOTIFICATION_FORMAT = "fhir-pas/subscription-notification"
_BACKPORT_NOTIFICATION = (
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
    "backport-subscription-notification-r4"
)


def notification_bundle(
    subscription: EhrSubscription,
    event_number: int,
    response: dict[str, Any],
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """The history Bundle one rest-hook POST carries: status first, then the focus."""
    focus_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{subscription.id}:{event_number}')}"
    subscription_url = f"{base_url}/Subscription/{subscription.id}"
    status = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "subscription", "valueReference": {"reference": subscription_url}},
            {"name": "topic", "valueCanonical": PAS_TOPIC},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(event_number)},
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(event_number)},
                    {"name": "timestamp", "valueInstant": now.isoformat()},
                    {"name": "focus", "valueReference": {"reference": focus_url}},
                ],
            },
        ],
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, focus_url)),
        "meta": {"profile": [_BACKPORT_NOTIFICATION]},
        "type": "history",
        "timestamp": now.isoformat(),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": status,
                "request": {"method": "GET", "url": f"{subscription_url}/$status"},
                "response": {"status": "200"},
            },
            {
                "fullUrl": focus_url,
                "resource": response,
                "request": {"method": "POST", "url": "Bundle"},
                "response": {"status": "201"},
            },
        ],
    }


async def deliver_ehr_notification(runtime: Runtime, job: JobRow, row: CaseRow) -> None:
    """POST the case's PAS response to the subscription's endpoint; raises a ConnectorError
    when the endpoint did not take it. A subscription turned off since, or a case that moved
    on from its decision (cancelled, closed), is owed nothing."""
    if CaseStatus(row.status) not in DECIDED_STATUSES:
        return
    async with runtime.store.connect() as conn:
        subscription = await get_subscription(
            conn, runtime.store.cipher, str(job.payload["subscription_id"])
        )
        claim = await find_by_case(conn, row.id)
        stored = (
            None
            if claim is None
            else await cases.get_message(conn, runtime.store.cipher, claim.request_message_id)
        )
    if subscription is None or subscription.status != "active":
        return
    if claim is None or stored is None:
        raise PermanentError("the case has no stored PAS request to answer")
    now = datetime.now(UTC)
    response = response_bundle(row, stored_request(stored.body), claim.claim_identifier, now=now)
    base_url = f"{runtime.settings.auth.issuer}/fhir"
    body = json.dumps(
        notification_bundle(
            subscription, int(job.payload["event_number"]), response, base_url, now
        ),
        separators=(",", ":"),
    ).encode()
    await _post(runtime, subscription, body)
    caller = Caller(
        client_id=subscription.client_id, tenant=row.tenant, token_jti=None, source_address=None
    )
    async with runtime.store.begin() as conn:
        await cases.add_message(
            conn,
            runtime.store.cipher,
            NewMessage(
                id=new_id(),
                tenant=row.tenant,
                case_id=row.id,
                direction="outbound",
                format=NOTIFICATION_FORMAT,
                body=body,
                error=None,
                created_at=now,
            ),
        )
    await runtime.audit.record(
        caller.audit(
            "E",
            "0",
            case_id=row.id,
            payer_id=row.payer_id,
            trace_id=current_trace_id(),
            detail={"send": "fhir.ehr_notification", "subscription": subscription.id},
        )
    )


async def _post(runtime: Runtime, subscription: EhrSubscription, body: bytes) -> None:
    headers = {"Content-Type": FHIR_JSON, **current_carrier()}
    for line in subscription.headers:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    timeout = runtime.settings.fhir.notification_timeout_seconds
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            answer = await client.post(subscription.endpoint, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise error_for_transport(exc) from None
    error = error_for_status(answer.status_code, answer.headers.get("retry-after"))
    if error is not None:
        raise error
