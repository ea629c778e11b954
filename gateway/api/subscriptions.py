"""Event subscriptions: who is told which catalog events, about which cases, and where.

A subscription belongs to the caller's tenant and sees only that tenant's cases; another
tenant's subscription answers 404 like a missing one. Its signing secret is shown once, when it
is created or rotated, and kept encrypted. Each change is audited in the transaction making it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from litestar import Request, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import Field, model_validator

from canonical.cases import CaseType
from canonical.event_catalog import EventType, catalog_json_schema
from connectors.http import EndpointUrl
from gateway.api.allow import with_allow
from gateway.api.intake import caller_of
from gateway.api.views import View
from gateway.auth.guards import require_any_scope
from gateway.events.signing import new_secret
from gateway.events.targets import Target
from gateway.intake import Caller
from gateway.problems import PROBLEM_JSON, FieldError, Problem
from gateway.runtime import runtime_of
from gateway.store import audit
from gateway.store import subscriptions as store
from gateway.store.ids import new_id
from gateway.store.records import NewAuditEntry
from gateway.store.subscriptions import DeliveryRow, NewSubscription, SubscriptionRow
from gateway.telemetry import current_trace_id

SCOPES = ("admin", "subscriptions:write")
SubscriptionId = Annotated[
    str, PathParameter(min_length=30, max_length=30, pattern=r"^sub_[0-9A-HJKMNP-TV-Z]{26}$")
]
_NOT_FOUND = {404: ResponseSpec(None, description="No such subscription.", media_type=PROBLEM_JSON)}
_TAGS = ["subscriptions"]
_CATALOG_SCHEMA = catalog_json_schema()
_Payer = Annotated[str, Field(max_length=80, pattern=r"^[A-Za-z0-9._\-]+$")]


class SubscriptionTarget(View):
    """`webhook` with a url, or `connector` naming a configured instance that offers erp.post."""

    kind: Literal["webhook", "connector"]
    url: EndpointUrl | None = Field(
        default=None, max_length=2000, description="https (http only on loopback)."
    )
    instance: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]{1,64}$")

    @model_validator(mode="after")
    def _one_destination(self) -> Self:
        if self.kind == "webhook" and (self.url is None or self.instance is not None):
            raise ValueError("a webhook target has a url and no instance")
        if self.kind == "connector" and (self.instance is None or self.url is not None):
            raise ValueError("a connector target has an instance and no url")
        return self


class SubscriptionFilter(View):
    case_types: list[CaseType] | None = Field(
        default=None, min_length=1, max_length=10, description="None: every case type."
    )
    payers: list[_Payer] | None = Field(
        default=None, min_length=1, max_length=100, description="None: every payer."
    )


class SubscriptionRequest(View):
    event_types: list[EventType] = Field(min_length=1, max_length=50)
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)
    target: SubscriptionTarget
    description: str | None = Field(default=None, max_length=200)


class SubscriptionView(View):
    id: str
    event_types: list[str]
    filter: SubscriptionFilter
    target: SubscriptionTarget
    description: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SubscriptionRow) -> SubscriptionView:
        target = Target.from_stored(row.target_kind, row.target_url)
        return cls(
            id=row.id,
            event_types=row.event_types,
            filter=SubscriptionFilter.model_validate(
                {"case_types": row.case_types, "payers": row.payers}
            ),
            target=SubscriptionTarget.model_construct(
                kind=target.kind, url=target.url, instance=target.instance
            ),
            description=row.description,
            previous_secret_expires_at=row.previous_secret_expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CreatedSubscription(SubscriptionView):
    secret: str = Field(description="whsec_...: shown only now; verify signatures with it.")


class SubscriptionPage(View):
    items: list[SubscriptionView]
    next_cursor: str | None


class RotationRequest(View):
    grace_seconds: int | None = Field(
        default=None, ge=0, le=30 * 86_400, description="How long the old secret still signs."
    )


class SecretRotation(View):
    secret: str = Field(description="The new whsec_ secret: shown only now.")
    previous_secret_expires_at: datetime


class DeliveryView(View):
    id: int
    event_id: str
    event_type: str
    case_id: str
    sequence: int
    status: str
    attempts: int
    last_error: str | None
    available_at: datetime
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: DeliveryRow) -> DeliveryView:
        return cls(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            case_id=row.case_id,
            sequence=row.seq,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            available_at=row.available_at,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )


class DeliveryPage(View):
    items: list[DeliveryView]
    next_cursor: int | None


class Replayed(View):
    replayed: int


def _audit(caller: Caller, action: str, event: str, subscription_id: str) -> NewAuditEntry:
    return caller.audit(
        action,
        "0",
        trace_id=current_trace_id(),
        detail={"event": event, "subscription": subscription_id},
    )


def _missing() -> Problem:
    return Problem(404, "Not Found", "no such subscription", "not-found")


@post("/v1/subscriptions", status_code=201, guards=[require_any_scope(*SCOPES)], tags=_TAGS)
async def create_subscription(
    request: Request[Any, Any, Any], data: JSONBody[SubscriptionRequest]
) -> CreatedSubscription:
    runtime = runtime_of(request)
    caller = caller_of(request)
    if data.target.instance is not None:
        if data.target.instance not in runtime.settings.connectors:
            raise Problem(
                422,
                "Invalid request",
                "the target names no configured connector instance",
                "validation",
                [FieldError("/target/instance", "names no configured connector instance")],
            )
        target = Target(kind="connector", instance=data.target.instance)
    else:
        target = Target(kind="webhook", url=data.target.url)
    secret = new_secret()
    new = NewSubscription(
        id=f"sub_{new_id()}",
        tenant=caller.tenant,
        event_types=sorted({t.value for t in data.event_types}),
        case_types=sorted({c.value for c in data.filter.case_types})
        if data.filter.case_types
        else None,
        payers=sorted(set(data.filter.payers)) if data.filter.payers else None,
        target_kind=target.stored_kind,
        target_url=target.url,
        description=data.description,
        secret=secret,
        created_at=datetime.now(UTC),
    )
    async with runtime.store.begin() as conn:
        await store.add_subscription(conn, runtime.store.cipher, new)
        await audit.append_audit(conn, [_audit(caller, "C", "subscription.created", new.id)])
        row = await store.get_subscription(conn, new.id, caller.tenant)
    assert row is not None
    return CreatedSubscription(**SubscriptionView.of(row).model_dump(), secret=secret)


@get("/v1/subscriptions", guards=[require_any_scope(*SCOPES)], tags=_TAGS)
async def list_subscriptions(
    request: Request[Any, Any, Any],
    *,
    cursor: Annotated[str | None, QueryParameter(pattern=r"^sub_[0-9A-HJKMNP-TV-Z]{26}$")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> SubscriptionPage:
    runtime = runtime_of(request)
    async with runtime.store.connect() as conn:
        rows = await store.list_subscriptions(
            conn, caller_of(request).tenant, after_id=cursor, limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return SubscriptionPage(
        items=[SubscriptionView.of(r) for r in rows], next_cursor=rows[-1].id if more else None
    )


@get(
    "/v1/subscriptions/{subscription_id:str}",
    guards=[require_any_scope(*SCOPES)],
    tags=_TAGS,
    responses=_NOT_FOUND,
)
async def read_subscription(
    request: Request[Any, Any, Any], subscription_id: SubscriptionId
) -> SubscriptionView:
    runtime = runtime_of(request)
    async with runtime.store.connect() as conn:
        row = await store.get_subscription(conn, subscription_id, caller_of(request).tenant)
    if row is None:
        raise _missing()
    return SubscriptionView.of(row)


@delete(
    "/v1/subscriptions/{subscription_id:str}",
    guards=[require_any_scope(*SCOPES)],
    tags=_TAGS,
    responses=_NOT_FOUND,
)
async def delete_subscription(
    request: Request[Any, Any, Any], subscription_id: SubscriptionId
) -> None:
    runtime = runtime_of(request)
    caller = caller_of(request)
    async with runtime.store.begin() as conn:
        if not await store.delete_subscription(conn, subscription_id, caller.tenant):
            raise _missing()
        await audit.append_audit(
            conn, [_audit(caller, "D", "subscription.deleted", subscription_id)]
        )


@post(
    "/v1/subscriptions/{subscription_id:str}/rotate-secret",
    status_code=200,
    guards=[require_any_scope(*SCOPES)],
    tags=_TAGS,
    responses=_NOT_FOUND,
)
async def rotate_secret(
    request: Request[Any, Any, Any],
    subscription_id: SubscriptionId,
    data: JSONBody[RotationRequest | None] = None,
) -> SecretRotation:
    """A new secret signs from now on; the old one keeps signing beside it for the grace
    period, so receivers can switch without refusing a single delivery."""
    runtime = runtime_of(request)
    caller = caller_of(request)
    grace = data.grace_seconds if data and data.grace_seconds is not None else None
    seconds = runtime.settings.events.rotation_grace_seconds if grace is None else grace
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    secret = new_secret()
    async with runtime.store.begin() as conn:
        rotated = await store.rotate_secret(
            conn,
            runtime.store.cipher,
            subscription_id,
            caller.tenant,
            new_secret=secret,
            previous_valid_until=until,
        )
        if not rotated:
            raise _missing()
        await audit.append_audit(
            conn, [_audit(caller, "U", "subscription.secret_rotated", subscription_id)]
        )
    return SecretRotation(secret=secret, previous_secret_expires_at=until)


@get(
    "/v1/subscriptions/{subscription_id:str}/deliveries",
    guards=[require_any_scope(*SCOPES)],
    tags=_TAGS,
    responses=_NOT_FOUND,
)
async def list_deliveries(
    request: Request[Any, Any, Any],
    subscription_id: SubscriptionId,
    *,
    status: Annotated[
        Literal["pending", "leased", "delivered", "dead"] | None, QueryParameter()
    ] = None,
    cursor: Annotated[int | None, QueryParameter(ge=0)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> DeliveryPage:
    runtime = runtime_of(request)
    async with runtime.store.connect() as conn:
        if await store.get_subscription(conn, subscription_id, caller_of(request).tenant) is None:
            raise _missing()
        rows = await store.list_deliveries(
            conn, subscription_id, status=status, after_id=cursor, limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return DeliveryPage(
        items=[DeliveryView.of(r) for r in rows], next_cursor=rows[-1].id if more else None
    )


@post(
    "/v1/subscriptions/{subscription_id:str}/replay",
    status_code=200,
    guards=[require_any_scope(*SCOPES)],
    tags=_TAGS,
    responses=_NOT_FOUND,
)
async def replay_dead_deliveries(
    request: Request[Any, Any, Any], subscription_id: SubscriptionId
) -> Replayed:
    """Owe the subscription its dead-lettered deliveries again (after the target is fixed)."""
    runtime = runtime_of(request)
    caller = caller_of(request)
    async with runtime.store.begin() as conn:
        if await store.get_subscription(conn, subscription_id, caller.tenant) is None:
            raise _missing()
        count = await store.replay_dead(conn, subscription_id)
        await audit.append_audit(
            conn, [_audit(caller, "E", "subscription.replayed", subscription_id)]
        )
    return Replayed(replayed=count)


@get(
    "/v1/events/schema",
    tags=["events"],
    summary="The event catalog as one JSON Schema",
    description=(
        "Every catalog event (type, version, case subject, data), discriminated by `type`; "
        "`x-event-types` lists the types and their versions. Webhook bodies validate against it."
    ),
)
async def event_schema() -> dict[str, Any]:
    return _CATALOG_SCHEMA


SUBSCRIPTION_HANDLERS = with_allow(
    [
        create_subscription,
        list_subscriptions,
        read_subscription,
        delete_subscription,
        rotate_secret,
        list_deliveries,
        replay_dead_deliveries,
        event_schema,
    ]
)
