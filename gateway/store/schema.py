"""The tables, as SQLAlchemy Core (no ORM: intake writes hundreds of rows per transaction).

The initial migration creates exactly these tables; a test compares the two.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out, on both backends.

    PostgreSQL stores timestamptz. SQLite has no datetime type: values are stored as fixed-width
    UTC text, which compares and sorts like the instants it encodes. Naive datetimes are refused,
    because their instant is a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC column: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json() -> sa.JSON:
    # JSON (not JSONB) keeps documents byte-for-byte, which the audit hash relies on.
    return sa.JSON(none_as_null=True)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("tenant", sa.String, nullable=False),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("payer_id", sa.String, nullable=False),
    sa.Column("urgency", sa.String, nullable=False),
    sa.Column("route", sa.String, nullable=True),
    sa.Column("payload", _json(), nullable=False),
    sa.Column("decision", _json(), nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
    _ts("decided_at", nullable=True),
    sa.Index("ix_cases_tenant_id", "tenant", "id"),
    sa.Index("ix_cases_tenant_type_id", "tenant", "type", "id"),
    sa.Index("ix_cases_tenant_status_id", "tenant", "status", "id"),
    sa.Index("ix_cases_tenant_payer_id", "tenant", "payer_id", "id"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("from_status", sa.String, nullable=True),
    sa.Column("to_status", sa.String, nullable=False),
    sa.Column("data", _json(), nullable=False),
    _ts("occurred_at"),
    sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("tenant", sa.String, nullable=False),
    sa.Column("case_id", sa.String, nullable=True),
    sa.Column("direction", sa.String, nullable=False),
    sa.Column("format", sa.String, nullable=False),
    sa.Column("content_sha256", sa.String, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    _ts("created_at"),
    _ts("replayed_at", nullable=True),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="ck_messages_direction"),
    sa.Index("ix_messages_case_id", "case_id"),
)

outbox_jobs = sa.Table(
    "outbox_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("case_id", sa.String, nullable=True),
    sa.Column("connector", sa.String, nullable=True),
    sa.Column("payload", _json(), nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    # When the job may next be claimed; for a leased job, when its lease lapses.
    _ts("available_at"),
    sa.Column("lease_owner", sa.String, nullable=True),
    _ts("lease_expires_at", nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("trace_context", _json(), nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
    sa.CheckConstraint(
        "status IN ('pending', 'leased', 'done', 'dead')", name="ck_outbox_jobs_status"
    ),
    sa.Index("ix_outbox_jobs_status_available_at", "status", "available_at"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("client_id", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("fingerprint", sa.String, nullable=False),
    sa.Column("response_status", sa.Integer, nullable=False),
    sa.Column("response_body", sa.LargeBinary, nullable=False),
    sa.Column("case_id", sa.String, nullable=True),
    _ts("created_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    # Assigned by the appender under the chain lock, so ids are consecutive and a gap is a
    # removed entry.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    _ts("recorded"),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("outcome", sa.String, nullable=False),
    sa.Column("client_id", sa.String, nullable=True),
    sa.Column("token_jti", sa.String, nullable=True),
    sa.Column("source_address", sa.String, nullable=True),
    sa.Column("case_id", sa.String, nullable=True),
    sa.Column("patient_hash", sa.String, nullable=True),
    sa.Column("payer_id", sa.String, nullable=True),
    sa.Column("purpose", sa.String, nullable=True),
    sa.Column("trace_id", sa.String, nullable=True),
    sa.Column("detail", _json(), nullable=False),
    sa.Column("prev_hash", sa.String, nullable=False),
    sa.Column("hash", sa.String, nullable=False),
)

# One row (id 1): the last entry of the chain. Appenders lock it, which serializes appends on
# PostgreSQL and lets verification notice entries cut off the end of the chain.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String, nullable=False),
)

GENESIS_HASH = "0" * 64
