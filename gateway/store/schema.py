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

# X12: control-number counters per trading partner, and inbound interchanges already seen.

# One row per (partner, envelope level): the last number handed out for ISA13, GS06 or ST02.
x12_control_numbers = sa.Table(
    "x12_control_numbers",
    metadata,
    sa.Column("partner", sa.String, primary_key=True),
    sa.Column("level", sa.String, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False),
    _ts("updated_at"),
    sa.CheckConstraint(
        "level IN ('interchange', 'group', 'transaction')", name="ck_x12_control_numbers_level"
    ),
)

# Sender + ISA13 identify an interchange; a second arrival of one is a resend, not new work.
x12_inbound_interchanges = sa.Table(
    "x12_inbound_interchanges",
    metadata,
    sa.Column("sender_qualifier", sa.String, primary_key=True),
    sa.Column("sender_id", sa.String, primary_key=True),
    sa.Column("control_number", sa.String, primary_key=True),
    sa.Column("message_id", sa.String, nullable=True),
    _ts("received_at"),
)

# HL7 v2 intake: which cases an EHR's orders opened (to update them on later messages and to
# send their decisions back), and the EHR's placer order numbers that lead to them.
hl7_cases = sa.Table(
    "hl7_cases",
    metadata,
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("sender", sa.String, nullable=False),
    sa.Column("patient", sa.String, nullable=True),
    sa.Column("notify", sa.String, nullable=True),
    sa.Column("placer_order_numbers", _json(), nullable=False),
    _ts("created_at"),
    sa.Index("ix_hl7_cases_sender_patient", "sender", "patient"),
)

hl7_order_refs = sa.Table(
    "hl7_order_refs",
    metadata,
    sa.Column("sender", sa.String, primary_key=True),
    sa.Column("placer_order", sa.String, primary_key=True),
    sa.Column("case_id", sa.String, primary_key=True),
)

# Events: subscriptions (who is told what, where) and their deliveries, one outbox per subscriber.

event_subscriptions = sa.Table(
    "event_subscriptions",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("tenant", sa.String, nullable=False),
    sa.Column("event_types", _json(), nullable=False),
    # None: any case type / any payer.
    sa.Column("case_types", _json(), nullable=True),
    sa.Column("payers", _json(), nullable=True),
    # "webhook" (with target_url) or "connector:<instance>".
    sa.Column("target_kind", sa.String, nullable=False),
    sa.Column("target_url", sa.String, nullable=True),
    sa.Column("description", sa.String, nullable=True),
    # Signing secrets, encrypted with the data key (the subscription id is the associated data).
    sa.Column("secret", sa.LargeBinary, nullable=False),
    sa.Column("previous_secret", sa.LargeBinary, nullable=True),
    _ts("previous_secret_expires_at", nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
    sa.Index("ix_event_subscriptions_tenant_id", "tenant", "id"),
)

event_deliveries = sa.Table(
    "event_deliveries",
    metadata,
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
    # When the delivery may next be claimed; for a leased one, when its lease lapses.
    _ts("available_at"),
    sa.Column("lease_owner", sa.String, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
    _ts("delivered_at", nullable=True),
    sa.CheckConstraint(
        "status IN ('pending', 'leased', 'delivered', 'dead')", name="ck_event_deliveries_status"
    ),
    # Also the index of the "no earlier undelivered event of this case" check.
    sa.UniqueConstraint("subscription_id", "case_id", "seq", name="uq_event_deliveries_order"),
    sa.Index("ix_event_deliveries_due", "subscription_id", "status", "available_at"),
)

# FHIR PAS facade for EHRs: the claims EHRs submitted, and their subscriptions to casegate.

# One row per case opened by a PAS bundle: who sent it, under which Claim identifier (keyed
# hash), the stored request bundle, and the provider organization subscriptions filter on.
fhir_facade_claims = sa.Table(
    "fhir_facade_claims",
    metadata,
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("tenant", sa.String, nullable=False),
    sa.Column("client_id", sa.String, nullable=False),
    sa.Column("claim_key", sa.String, nullable=False),
    sa.Column("claim_identifier", _json(), nullable=False),
    sa.Column("org_identifier", sa.String, nullable=True),
    sa.Column("request_message_id", sa.String, nullable=False),
    _ts("created_at"),
    sa.UniqueConstraint("client_id", "claim_key", name="uq_fhir_facade_claims_claim"),
)

# Rest-hook subscriptions of EHR clients (R4 Subscriptions Backport, PAS topic).
fhir_ehr_subscriptions = sa.Table(
    "fhir_ehr_subscriptions",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("tenant", sa.String, nullable=False),
    sa.Column("client_id", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("endpoint", sa.String, nullable=False),
    sa.Column("org_identifier", sa.String, nullable=False),
    # channel.header lines, encrypted with the data key (the subscription id is the AAD).
    sa.Column("headers", sa.LargeBinary, nullable=True),
    sa.Column("events_since_start", sa.Integer, nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
    sa.CheckConstraint("status IN ('active', 'off')", name="ck_fhir_ehr_subscriptions_status"),
    sa.Index("ix_fhir_ehr_subscriptions_client", "client_id", "status"),
)

# Policy orchestration: the policy decision of each case with its SLA clock and escalation
# state (so deadlines survive restarts), and the work items people resolve.

case_policies = sa.Table(
    "case_policies",
    metadata,
    sa.Column("case_id", sa.String, sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("pack_id", sa.String, nullable=False),
    sa.Column("pack_version", sa.String, nullable=False),
    sa.Column("fired_rules", _json(), nullable=False),
    sa.Column("decision", _json(), nullable=False),
    _ts("sla_due_at"),
    _ts("sla_breached_at", nullable=True),
    # Rungs of the decision's escalation ladder already raised; the next one is at this index.
    sa.Column("rungs_raised", sa.Integer, nullable=False),
    # When the sweeper must next look at this case (next rung or SLA deadline); None: never.
    _ts("next_check_at", nullable=True),
    _ts("decided_at"),
    sa.Index("ix_case_policies_next_check_at", "next_check_at"),
)

work_items = sa.Table(
    "work_items",
    metadata,
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
    sa.CheckConstraint("status IN ('open', 'claimed', 'resolved')", name="ck_work_items_status"),
    sa.Index("ix_work_items_tenant_queue_id", "tenant", "queue", "id"),
    sa.Index("ix_work_items_tenant_assignee_id", "tenant", "assignee", "id"),
    sa.Index("ix_work_items_case_id", "case_id"),
    sa.Index("ix_work_items_status_created_at", "status", "created_at"),
)

# FHIR PAS payers: casegate's one rest-hook subscription per payer endpoint, and the
# notifications received on them (their natural key de-duplicates a payer's resends).

fhir_payer_subscriptions = sa.Table(
    "fhir_payer_subscriptions",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("endpoint", sa.String, nullable=False),
    sa.Column("connector", sa.String, nullable=False),
    sa.Column("remote_id", sa.String, nullable=True),
    # SHA-256 of the secret the payer sends back in the notification header.
    sa.Column("secret_hash", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
    sa.UniqueConstraint("endpoint", name="uq_fhir_payer_subscriptions_endpoint"),
    sa.CheckConstraint(
        "status IN ('requested', 'active')", name="ck_fhir_payer_subscriptions_status"
    ),
)

fhir_payer_notifications = sa.Table(
    "fhir_payer_notifications",
    metadata,
    sa.Column("subscription_id", sa.String, primary_key=True),
    sa.Column("event_key", sa.String, primary_key=True),
    sa.Column("case_id", sa.String, nullable=True),
    sa.Column("message_id", sa.String, nullable=False),
    _ts("received_at"),
)
