"""Policy orchestration: SLA deadlines and escalation state on cases, work items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "case_policies",
        sa.Column("case_id", sa.String, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("pack_id", sa.String, nullable=False),
        sa.Column("pack_version", sa.String, nullable=False),
        sa.Column("fired_rules", _json(), nullable=False),
        sa.Column("decision", _json(), nullable=False),
        _ts("sla_due_at"),
        _ts("sla_breached_at", nullable=True),
        sa.Column("rungs_raised", sa.Integer, nullable=False),
        _ts("next_check_at", nullable=True),
        _ts("decided_at"),
    )
    op.create_index("ix_case_policies_next_check_at", "case_policies", ["next_check_at"])
    op.create_table(
        "work_items",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("tenant", sa.String, nullable=False),
        sa.Column("case_id", sa.String, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("queue", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("assignee", sa.String, nullable=True),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("detail", _json(), nullable=False),
        _ts("sla_due_at"),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("resolved_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'claimed', 'resolved')", name="ck_work_items_status"
        ),
    )
    op.create_index("ix_work_items_tenant_queue_id", "work_items", ["tenant", "queue", "id"])
    op.create_index("ix_work_items_tenant_assignee_id", "work_items", ["tenant", "assignee", "id"])
    op.create_index("ix_work_items_case_id", "work_items", ["case_id"])
    op.create_index("ix_work_items_status_created_at", "work_items", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("work_items")
    op.drop_table("case_policies")
