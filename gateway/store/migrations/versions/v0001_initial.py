"""Initial schema: cases, events, messages, outbox, idempotency keys, audit chain.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cases",
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
    )
    op.create_index("ix_cases_tenant_id", "cases", ["tenant", "id"])
    op.create_index("ix_cases_tenant_type_id", "cases", ["tenant", "type", "id"])
    op.create_index("ix_cases_tenant_status_id", "cases", ["tenant", "status", "id"])
    op.create_index("ix_cases_tenant_payer_id", "cases", ["tenant", "payer_id", "id"])

    op.create_table(
        "case_events",
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

    op.create_table(
        "messages",
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
    )
    op.create_index("ix_messages_case_id", "messages", ["case_id"])

    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("case_id", sa.String, nullable=True),
        sa.Column("connector", sa.String, nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
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
    )
    op.create_index("ix_outbox_jobs_status_available_at", "outbox_jobs", ["status", "available_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("client_id", sa.String, primary_key=True),
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("fingerprint", sa.String, nullable=False),
        sa.Column("response_status", sa.Integer, nullable=False),
        sa.Column("response_body", sa.LargeBinary, nullable=False),
        sa.Column("case_id", sa.String, nullable=True),
        _ts("created_at"),
    )

    op.create_table(
        "audit_log",
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
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String, nullable=False),
    )
    op.bulk_insert(audit_head, [{"id": 1, "last_id": 0, "last_hash": "0" * 64}])


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "idempotency_keys",
        "outbox_jobs",
        "messages",
        "case_events",
        "cases",
    ):
        op.drop_table(table)
