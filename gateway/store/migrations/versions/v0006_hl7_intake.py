"""HL7 v2 intake: cases opened by EHR orders, and the placer order numbers that lead to them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hl7_cases",
        sa.Column("case_id", sa.String, primary_key=True),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("patient", sa.String, nullable=True),
        sa.Column("notify", sa.String, nullable=True),
        sa.Column("placer_order_numbers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hl7_cases_sender_patient", "hl7_cases", ["sender", "patient"])
    op.create_table(
        "hl7_order_refs",
        sa.Column("sender", sa.String, primary_key=True),
        sa.Column("placer_order", sa.String, primary_key=True),
        sa.Column("case_id", sa.String, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("hl7_order_refs")
    op.drop_index("ix_hl7_cases_sender_patient", table_name="hl7_cases")
    op.drop_table("hl7_cases")
