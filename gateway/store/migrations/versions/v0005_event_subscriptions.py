"""Events: subscriber webhooks and per-subscriber deliveries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "event_subscriptions",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("tenant", sa.String, nullable=False),
        sa.Column("event_types", _json(), nullable=False),
        sa.Column("case_types", _json(), nullable=True),
        sa.Column("payers", _json(), nullable=True),
        sa.Column("target_kind", sa.String, nullable=False),
        sa.Column("target_url", sa.String, nullable=True),
        sa.Column("description", sa.String, nullable=True),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("previous_secret", sa.LargeBinary, nullable=True),
        _ts("previous_secret_expires_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_event_subscriptions_tenant_id", "event_subscriptions", ["tenant", "id"])
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscription_id",
            sa.String,
            sa.ForeignKey("event_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("case_id", sa.String, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _ts("available_at"),
        sa.Column("lease_owner", sa.String, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("delivered_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'leased', 'delivered', 'dead')",
            name="ck_event_deliveries_status",
        ),
        sa.UniqueConstraint("subscription_id", "case_id", "seq", name="uq_event_deliveries_order"),
    )
    op.create_index(
        "ix_event_deliveries_due",
        "event_deliveries",
        ["subscription_id", "status", "available_at"],
    )


def downgrade() -> None:
    op.drop_table("event_deliveries")
    op.drop_table("event_subscriptions")
