"""Every store test runs twice: on SQLite (embedded) and on PostgreSQL (scaled out).

Each test gets a fresh database: a new SQLite file, or a new PostgreSQL schema dropped
afterwards, so tests never see each other's rows and may run alongside other test runs.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.store.engine import Store, open_store
from gateway.store.ids import new_id
from gateway.store.intake import IntakeRecord
from gateway.store.migrate import upgrade
from gateway.store.records import (
    IdempotencyClaim,
    NewAuditEntry,
    NewCase,
    NewEvent,
    NewJob,
    NewMessage,
)

DATA_KEY = bytes(range(32))


@pytest.fixture
def store_url(database_url: str) -> str:
    """A database URL, not yet migrated (each backend, from the suite-wide fixture)."""
    return database_url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """An open store on a freshly migrated database."""
    await asyncio.to_thread(upgrade, store_url)
    opened = await open_store(store_url, DATA_KEY)
    yield opened
    await opened.close()


def at(minute: int = 0) -> datetime:
    return datetime(2025, 3, 1, 12, minute, tzinfo=UTC)


def new_case(tenant: str = "clinic-a", **overrides: Any) -> NewCase:
    fields: dict[str, Any] = {
        "id": new_id(),
        "tenant": tenant,
        "type": "prior_auth",
        "status": "received",
        "payer_id": "payer-1",
        "urgency": "standard",
        "payload": {"service": "97110", "units": 4},
        "created_at": at(),
    }
    fields.update(overrides)
    return NewCase(**fields)


def new_audit(case_id: str | None = None, action: str = "case.create") -> NewAuditEntry:
    return NewAuditEntry(
        action=action,
        outcome="success",
        client_id="app-1",
        token_jti="jti-1",
        source_address="127.0.0.1",
        case_id=case_id,
        patient_hash="ab" * 32,
        payer_id="payer-1",
        purpose="TREAT",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        detail={"route": "payer_rest", "n": 1},
    )


@pytest.fixture
def make_case() -> Callable[..., NewCase]:
    return new_case


@pytest.fixture
def make_audit() -> Callable[..., NewAuditEntry]:
    return new_audit


RecordFactory = Callable[..., IntakeRecord]


@pytest.fixture
def make_record() -> RecordFactory:
    """Builds a full intake record (case, first event, job, message, audit) for one request."""

    def build(
        key: str | None = "key-1",
        *,
        fingerprint: str = "f" * 64,
        client_id: str = "app-1",
        case: NewCase | None = None,
        body: bytes = b'{"member":"M123456789","service":"97110"}',
    ) -> IntakeRecord:
        case = case or new_case()
        claim = (
            None
            if key is None
            else IdempotencyClaim(
                client_id=client_id,
                key=key,
                fingerprint=fingerprint,
                response_status=202,
                response_body=f'{{"case_id":"{case.id}"}}'.encode(),
            )
        )
        return IntakeRecord(
            idempotency=claim,
            case=case,
            event=NewEvent(
                case_id=case.id,
                type="case.received",
                from_status=None,
                to_status="received",
                data={},
                occurred_at=at(),
            ),
            job=NewJob(
                kind="case.decide",
                case_id=case.id,
                connector=None,
                payload={"case_id": case.id},
                trace_context={
                    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                },
                available_at=at(),
            ),
            message=NewMessage(
                id=new_id(),
                tenant=case.tenant,
                case_id=case.id,
                direction="inbound",
                format="canonical-json",
                body=body,
                error=None,
                created_at=at(),
            ),
            audit=new_audit(case.id),
        )

    return build
