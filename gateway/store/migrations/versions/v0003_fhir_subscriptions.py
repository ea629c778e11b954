"""FHIR PAS: payer subscriptions, EHR subscriptions to casegate, notification receipts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    _upgrade_ehr_facade()
    _upgrade_payer_follow_up()


def downgrade() -> None:
    _downgrade_payer_follow_up()
    _downgrade_ehr_facade()


# The PAS facade for EHRs: claims submitted through it, EHR subscriptions to casegate.


def _upgrade_ehr_facade() -> None:
    op.create_table(
        "fhir_facade_claims",
        sa.Column("case_id", sa.String, primary_key=True),
        sa.Column("tenant", sa.String, nullable=False),
        sa.Column("client_id", sa.String, nullable=False),
        sa.Column("claim_key", sa.String, nullable=False),
        sa.Column("claim_identifier", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("org_identifier", sa.String, nullable=True),
        sa.Column("request_message_id", sa.String, nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("client_id", "claim_key", name="uq_fhir_facade_claims_claim"),
    )
    op.create_table(
        "fhir_ehr_subscriptions",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("tenant", sa.String, nullable=False),
        sa.Column("client_id", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("endpoint", sa.String, nullable=False),
        sa.Column("org_identifier", sa.String, nullable=False),
        sa.Column("headers", sa.LargeBinary, nullable=True),
        sa.Column("events_since_start", sa.Integer, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("status IN ('active', 'off')", name="ck_fhir_ehr_subscriptions_status"),
    )
    op.create_index(
        "ix_fhir_ehr_subscriptions_client", "fhir_ehr_subscriptions", ["client_id", "status"]
    )


def _downgrade_ehr_facade() -> None:
    op.drop_index("ix_fhir_ehr_subscriptions_client", "fhir_ehr_subscriptions")
    op.drop_table("fhir_ehr_subscriptions")
    op.drop_table("fhir_facade_claims")


# FHIR PAS payers: casegate's subscriptions at payers and the notifications received on them.


def _upgrade_payer_follow_up() -> None:
    op.create_table(
        "fhir_payer_subscriptions",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("endpoint", sa.String, nullable=False),
        sa.Column("connector", sa.String, nullable=False),
        sa.Column("remote_id", sa.String, nullable=True),
        sa.Column("secret_hash", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("endpoint", name="uq_fhir_payer_subscriptions_endpoint"),
        sa.CheckConstraint(
            "status IN ('requested', 'active')", name="ck_fhir_payer_subscriptions_status"
        ),
    )
    op.create_table(
        "fhir_payer_notifications",
        sa.Column("subscription_id", sa.String, primary_key=True),
        sa.Column("event_key", sa.String, primary_key=True),
        sa.Column("case_id", sa.String, nullable=True),
        sa.Column("message_id", sa.String, nullable=False),
        _ts("received_at"),
    )


def _downgrade_payer_follow_up() -> None:
    op.drop_table("fhir_payer_notifications")
    op.drop_table("fhir_payer_subscriptions")
