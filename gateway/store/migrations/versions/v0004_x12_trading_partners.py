"""X12: control-number counters per trading partner, inbound interchange receipts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "x12_control_numbers",
        sa.Column("partner", sa.String, primary_key=True),
        sa.Column("level", sa.String, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('interchange', 'group', 'transaction')",
            name="ck_x12_control_numbers_level",
        ),
    )
    op.create_table(
        "x12_inbound_interchanges",
        sa.Column("sender_qualifier", sa.String, primary_key=True),
        sa.Column("sender_id", sa.String, primary_key=True),
        sa.Column("control_number", sa.String, primary_key=True),
        sa.Column("message_id", sa.String, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("x12_inbound_interchanges")
    op.drop_table("x12_control_numbers")
