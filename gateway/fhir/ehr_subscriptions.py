"""EHR subscriptions to casegate: R4 Subscriptions Backport, rest-hook, the PAS topic.

An EHR subscribes once (not per claim, PAS spec-57/58), filtered by its organization's
identifier (`orgIdentifier`, the NPI on Claim.provider); it is told about the claims it
submitted itself, never another client's. When such a case is decided, one notification job
per matching subscription is written in the same transaction as the decision, so a decision
recorded is a notification owed; the job carries the subscription's event number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from fhir.resources.R4B.subscription import Subscription
from litestar import Request, Response, delete, get, post
from litestar.params import PathParameter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.api.intake import caller_of
from gateway.auth.guards import require_scopes
from gateway.fhir.capability import BACKPORT, PAS_TOPIC
from gateway.fhir.outcomes import FhirError, fhir_response
from gateway.runtime import Runtime, runtime_of
from gateway.store.cipher import MessageCipher
from gateway.store.clock import utcnow
from gateway.store.ids import new_id
from gateway.store.outbox import enqueue_many
from gateway.store.records import NewJob
from gateway.store.schema import fhir_ehr_subscriptions, fhir_facade_claims
from gateway.telemetry import current_trace_id
from mappings.fhir_pas.errors import Issue, fhirpath

EHR_NOTIFICATION_JOB = "fhir.ehr_notification"
FILTER_CRITERIA = f"{BACKPORT}/StructureDefinition/backport-filter-criteria"
PAYLOAD_CONTENT = f"{BACKPORT}/StructureDefinition/backport-payload-content"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_MAX_BODY = 64 * 1024

SubscriptionId = Annotated[
    str, PathParameter(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")
]


@dataclass(frozen=True, slots=True)
class EhrSubscription:
    id: str
    tenant: str
    client_id: str
    status: str
    endpoint: str
    org_identifier: str
    headers: list[str]
    events_since_start: int


def _refused(at: str, text: str, code: str = "invalid", status: int = 422) -> FhirError:
    return FhirError(status, [Issue(at, text, code)])


def _org_identifier(document: dict[str, Any]) -> str:
    """The `orgIdentifier` of the backport filter criteria (`Bundle?orgIdentifier=...`)."""
    at = "Subscription.criteria.extension"
    extensions = (document.get("_criteria") or {}).get("extension") or []
    for extension in extensions:
        criteria = extension.get("valueString")
        if extension.get("url") == FILTER_CRITERIA and isinstance(criteria, str):
            values = parse_qs(criteria.partition("?")[2] or criteria).get("orgIdentifier") or []
            if len(values) == 1 and values[0].strip():
                return str(values[0].strip().rpartition("|")[2])
            raise _refused(at, "the filter criteria must name one orgIdentifier", "value")
    raise _refused(at, "PAS subscriptions need filter criteria with an orgIdentifier", "required")


def _endpoint(channel: dict[str, Any]) -> str:
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str):
        raise _refused("Subscription.channel.endpoint", "a rest-hook needs an endpoint", "required")
    parts = urlsplit(endpoint)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not parts.hostname or not secure or parts.username or parts.password:
        raise _refused(
            "Subscription.channel.endpoint",
            "must be an https URL without credentials (plain http on loopback only)",
            "value",
        )
    return endpoint


def read_subscription(raw: bytes) -> tuple[str, str, list[str]]:
    """Endpoint, orgIdentifier and header lines of a PAS Subscription, or a located refusal."""
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise _refused("Subscription", "the body is not JSON", "structure", 400) from None
    if not isinstance(document, dict) or document.get("resourceType") != "Subscription":
        raise _refused("Subscription", "the body must be a FHIR Subscription", "structure", 400)
    try:
        Subscription.model_validate(document)
    except ValidationError as exc:
        issues = [
            Issue(fhirpath("Subscription", e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise FhirError(400, issues) from None
    except (KeyError, TypeError, ValueError):
        raise _refused("Subscription", "does not conform to FHIR R4", "structure", 400) from None
    if document.get("criteria") != PAS_TOPIC:
        raise _refused("Subscription.criteria", f"must be the PAS topic {PAS_TOPIC}", "value")
    if document.get("status") not in ("requested", "active"):
        raise _refused("Subscription.status", "must be requested or active", "value")
    channel = document.get("channel") or {}
    if channel.get("type") != "rest-hook":
        raise _refused("Subscription.channel.type", "only rest-hook is supported", "not-supported")
    contents = [
        e.get("valueCode")
        for e in ((channel.get("_payload") or {}).get("extension") or [])
        if e.get("url") == PAYLOAD_CONTENT
    ]
    if contents != ["full-resource"]:
        raise _refused(
            "Subscription.channel.payload.extension",
            "PAS notifications carry full-resource content",
            "value",
        )
    headers = channel.get("header") or []
    for index, line in enumerate(headers):
        name, colon, _ = line.partition(":")
        if not colon or not name.strip() or "\n" in line or "\r" in line:
            raise _refused(f"Subscription.channel.header[{index}]", "must be 'Name: value'")
    return _endpoint(channel), _org_identifier(document), list(headers)


def subscription_resource(subscription: EhrSubscription) -> dict[str, Any]:
    """The stored subscription as FHIR, without its header lines (they may hold credentials)."""
    return {
        "resourceType": "Subscription",
        "id": subscription.id,
        "status": "active" if subscription.status == "active" else "off",
        "reason": "PAS prior authorization updates",
        "criteria": PAS_TOPIC,
        "_criteria": {
            "extension": [
                {
                    "url": FILTER_CRITERIA,
                    "valueString": f"Bundle?orgIdentifier={subscription.org_identifier}",
                }
            ]
        },
        "channel": {
            "type": "rest-hook",
            "endpoint": subscription.endpoint,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": "full-resource"}]},
        },
    }


def _row(cipher: MessageCipher, row: sa.Row[Any]) -> EhrSubscription:
    headers = (
        [] if row.headers is None else json.loads(cipher.decrypt(row.headers, row.id.encode()))
    )
    return EhrSubscription(
        id=row.id,
        tenant=row.tenant,
        client_id=row.client_id,
        status=row.status,
        endpoint=row.endpoint,
        org_identifier=row.org_identifier,
        headers=headers,
        events_since_start=row.events_since_start,
    )


async def get_subscription(
    conn: AsyncConnection, cipher: MessageCipher, subscription_id: str
) -> EhrSubscription | None:
    query = sa.select(fhir_ehr_subscriptions).where(fhir_ehr_subscriptions.c.id == subscription_id)
    row = (await conn.execute(query)).first()
    return None if row is None else _row(cipher, row)


async def enqueue_decision_notifications(
    conn: AsyncConnection, case_ids: Sequence[str], trace_context: dict[str, str] | None = None
) -> int:
    """In the transaction that decides `case_ids`: one notification job per subscription of
    each case's submitter whose orgIdentifier matches; returns how many were written."""
    if not case_ids:
        return 0
    claims, subscriptions = fhir_facade_claims, fhir_ehr_subscriptions
    matches = (
        await conn.execute(
            sa.select(claims.c.case_id, subscriptions.c.id)
            .join(
                subscriptions,
                sa.and_(
                    subscriptions.c.client_id == claims.c.client_id,
                    subscriptions.c.tenant == claims.c.tenant,
                    subscriptions.c.org_identifier == claims.c.org_identifier,
                    subscriptions.c.status == "active",
                ),
            )
            .where(claims.c.case_id.in_(sorted(set(case_ids))))
            .order_by(claims.c.case_id, subscriptions.c.id)
        )
    ).all()
    now = utcnow()
    jobs = []
    for case_id, subscription_id in matches:
        number = (
            await conn.execute(
                sa.update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(events_since_start=subscriptions.c.events_since_start + 1, updated_at=now)
                .returning(subscriptions.c.events_since_start)
            )
        ).scalar_one()
        jobs.append(
            NewJob(
                kind=EHR_NOTIFICATION_JOB,
                case_id=case_id,
                connector=None,
                payload={"subscription_id": subscription_id, "event_number": int(number)},
                trace_context=trace_context or {},
                available_at=now,
            )
        )
    await enqueue_many(conn, jobs)
    return len(jobs)


async def _owned(runtime: Runtime, request: Request[Any, Any, Any], id: str) -> EhrSubscription:
    """The caller's own subscription; another client's answers 404 like a missing one."""
    caller = caller_of(request)
    async with runtime.store.connect() as conn:
        found = await get_subscription(conn, runtime.store.cipher, id)
    if found is None or found.client_id != caller.client_id or found.tenant != caller.tenant:
        raise _refused("Subscription.id", "no such subscription", "not-found", 404)
    return found


@post(
    "/Subscription",
    guards=[require_scopes("system/Subscription.write")],
    request_max_body_size=_MAX_BODY,
    status_code=201,
    name="fhir-subscription-create",
)
async def create_subscription(request: Request[Any, Any, Any]) -> Response[bytes]:
    runtime = runtime_of(request)
    caller = caller_of(request)
    endpoint, org, headers = read_subscription(await request.body())
    now = datetime.now(UTC)
    subscription = EhrSubscription(
        id=new_id(),
        tenant=caller.tenant,
        client_id=caller.client_id,
        status="active",
        endpoint=endpoint,
        org_identifier=org,
        headers=headers,
        events_since_start=0,
    )
    sealed = None
    if headers:
        sealed = runtime.store.cipher.encrypt(
            json.dumps(headers).encode(), subscription.id.encode()
        )
    async with runtime.store.begin() as conn:
        await conn.execute(
            sa.insert(fhir_ehr_subscriptions).values(
                id=subscription.id,
                tenant=subscription.tenant,
                client_id=subscription.client_id,
                status=subscription.status,
                endpoint=endpoint,
                org_identifier=org,
                headers=sealed,
                events_since_start=0,
                created_at=now,
                updated_at=now,
            )
        )
    await runtime.audit.record(
        caller.audit(
            "C",
            "0",
            trace_id=current_trace_id(),
            detail={"event": "fhir.subscription.create", "subscription": subscription.id},
        )
    )
    return fhir_response(
        subscription_resource(subscription),
        201,
        {"Location": f"{runtime.settings.auth.issuer}/fhir/Subscription/{subscription.id}"},
    )


@get(
    "/Subscription/{subscription_id:str}",
    guards=[require_scopes("system/Subscription.read")],
    name="fhir-subscription-read",
)
async def read_subscription_route(
    request: Request[Any, Any, Any], subscription_id: SubscriptionId
) -> Response[bytes]:
    found = await _owned(runtime_of(request), request, subscription_id)
    return fhir_response(subscription_resource(found))


@delete(
    "/Subscription/{subscription_id:str}",
    guards=[require_scopes("system/Subscription.write")],
    status_code=200,
    name="fhir-subscription-delete",
)
async def delete_subscription(
    request: Request[Any, Any, Any], subscription_id: SubscriptionId
) -> Response[bytes]:
    """Turns the subscription off; its row stays, so notifications already owed resolve."""
    runtime = runtime_of(request)
    found = await _owned(runtime, request, subscription_id)
    async with runtime.store.begin() as conn:
        await conn.execute(
            sa.update(fhir_ehr_subscriptions)
            .where(fhir_ehr_subscriptions.c.id == found.id)
            .values(status="off", updated_at=utcnow())
        )
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": "off"}],
    }
    return fhir_response(outcome)


SUBSCRIPTION_HANDLERS = [create_subscription, read_subscription_route, delete_subscription]
