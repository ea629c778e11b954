"""Gateway settings: one YAML file plus environment overrides, validated once at start.

Secrets appear only as references (`env:NAME`, `file:/path`); the file can be reviewed and
committed. Every validation message names the key that is wrong, never the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    model_validator,
)

from canonical.cases import CaseType
from gateway.auth.settings import AuthSettings
from gateway.invoices.match import Tolerances

CONFIG_ENV = "CASEGATE_CONFIG"
OVERRIDE_PREFIX = "CASEGATE__"


class _Section(BaseModel):
    # Values are never echoed in errors: a secret pasted where a reference belongs stays hidden.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class RetryPolicy(_Section):
    """How often a send is tried before its job goes to the dead-letter queue; a plain value."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    initial_backoff_seconds: float = Field(default=1.0, gt=0)
    max_backoff_seconds: float = Field(default=300.0, gt=0)
    multiplier: float = Field(default=2.0, ge=1)
    jitter: float = Field(default=0.2, ge=0, le=1)
    tries_per_attempt: int = Field(
        default=2, ge=1, le=10, description="Quick tries inside one attempt before rescheduling."
    )
    quick_retry_seconds: float = Field(default=0.1, ge=0)


class ConnectorInstance(_Section):
    kind: str = Field(description="Entry-point name in the casegate.connectors group.")
    config: dict[str, Any] = Field(default_factory=dict)
    retry_policy: str = "default"


class Route(_Section):
    """Which connector instance serves a payer; '*' is the fallback for any payer."""

    payer: str = "*"
    case_type: CaseType = CaseType.prior_authorization
    connector: str


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_page_size: int = Field(default=200, ge=1, le=1000)


class WorkerSettings(_Section):
    in_process: bool = Field(default=True, description="Run workers inside `casegate serve`.")
    concurrency: int = Field(default=32, ge=1, le=1024)
    lease_seconds: float = Field(default=30.0, gt=1)
    poll_interval_seconds: float = Field(default=0.05, gt=0)
    pended_follow_up_seconds: float | None = Field(
        default=None, gt=0, description="A fixed follow-up interval instead of the pack's cadence."
    )


class PolicySettings(_Section):
    """Where payer rule packs live beyond the shipped ones, how often they are re-read, and which
    connector instances serve each wire channel a pack's route may name."""

    directories: list[Path] = Field(
        default_factory=list, description="Pack directories after the shipped one; later wins."
    )
    reload_seconds: float = Field(default=5.0, gt=0)
    sweep_seconds: float = Field(
        default=30.0, gt=0, description="How often SLA deadlines and escalation rungs are checked."
    )
    channels: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Channel kind (fhir_pas, x12_278, payer_rest) to connector instances.",
    )


class Hl7Sender(_Section):
    """One EHR allowed to send HL7 v2: MSH-3, optionally MSH-4, and the networks it connects from
    (any when empty)."""

    application: str = Field(min_length=1)
    facility: str | None = None
    networks: list[IPvAnyNetwork] = Field(default_factory=list)


class Hl7Settings(_Section):
    """The MLLP listener for EHR messages (`casegate serve` runs it when enabled)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=2575, ge=0, le=65535)
    senders: list[Hl7Sender] | None = Field(
        default=None, description="The allow list; None takes any sender (a trusted LAN only)."
    )
    ack_mode: Literal["original", "enhanced"] | None = Field(
        default=None, description="None answers in the mode each message asks for (MSH-15/16)."
    )
    tenant: str = Field(default="default", min_length=1, description="Tenant of opened cases.")
    decisions_to: str | None = Field(
        default=None, description="Connector instance (kind hl7v2_mllp) the decisions go back to."
    )
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = Field(default=None, description="Set: mutual TLS.")
    max_message_bytes: int = Field(default=1_048_576, ge=1024)
    idle_timeout_seconds: float = Field(default=300.0, gt=0)


class FhirSettings(_Section):
    """The PAS facade for EHRs: how long `$submit` waits for the payer before answering
    pended, the largest bundle taken, and how notifications to EHR subscriptions are sent."""

    facade_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    max_bundle_bytes: int = Field(default=10_485_760, ge=1024)
    notification_timeout_seconds: float = Field(default=10.0, gt=0)
    notification_retry_policy: str = "default"


class EventSettings(_Section):
    """Delivery of catalog events to subscriptions (gateway.events): each subscription has its
    own lane of `per_subscription_concurrency` deliveries in flight, so a slow one waits alone."""

    retry_policy: str = Field(default="default", description="A name in retry_policies.")
    per_subscription_concurrency: int = Field(default=8, ge=1, le=256)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    claim_ahead: int = Field(
        default=4, ge=1, le=16, description="Lanes' worth of deliveries claimed at once."
    )
    lease_seconds: float = Field(default=60.0, gt=1)
    rotation_grace_seconds: float = Field(
        default=86_400.0, ge=0, le=30 * 86_400, description="How long a rotated secret signs."
    )
    refresh_seconds: float = Field(
        default=1.0, gt=0, description="How soon a new subscription gets its delivery lane."
    )

    @model_validator(mode="after")
    def _lease_outlasts_the_queue(self) -> EventSettings:
        # The last delivery claimed waits for claim_ahead sends before its own.
        if self.lease_seconds <= self.claim_ahead * self.timeout_seconds:
            raise ValueError("events.lease_seconds must exceed claim_ahead x timeout_seconds")
        return self


class PayerFollowUpSettings(_Section):
    """Pended FHIR PAS cases: one rest-hook subscription per payer endpoint tells of decisions;
    `$inquire` only reconciles cases whose notification is overdue, at a bounded rate."""

    callback_base_url: str | None = Field(
        default=None,
        description="How payers reach this gateway (notifications go to "
        "{callback_base_url}/fhir/notifications/{id}); None: no subscriptions are made.",
    )
    notification_overdue_seconds: float = Field(default=3600.0, gt=0)
    reconcile_interval_seconds: float = Field(default=60.0, gt=0)
    max_inquiries_per_interval: int = Field(default=10, ge=0, le=10_000)
    subscribe_retry_seconds: float = Field(default=30.0, gt=0)


class X12Pickup(_Section):
    """One clearinghouse whose report folder is polled for 835 and 277 files."""

    connector: str = Field(description="A connector instance of kind x12_clearinghouse.")
    interval_seconds: float = Field(default=60.0, gt=0)
    tenant: str = Field(default="default", min_length=1, description="Tenant of opened cases.")
    claims_dir: Path | None = Field(
        default=None,
        description="Canonical claims as submitted, one <patient account number>.json each: "
        "what a denial appeal is built from.",
    )


class X12Settings(_Section):
    pickup: list[X12Pickup] = Field(default_factory=list)


class InvoiceSettings(_Section):
    """The three-way match of invoice exceptions, and where a mismatch waits for a person."""

    tolerances: Tolerances = Field(default_factory=Tolerances)
    exception_queue: str = Field(
        default="ap_exceptions",
        min_length=1,
        description="The queue of a mismatch whose policy decision names no approver's queue.",
    )
    exception_role: str = Field(default="ap_approver", min_length=1)
    review_within_hours: float = Field(
        default=120.0, gt=0, description="The review's SLA when the case has no policy clock."
    )


class Settings(_Section):
    home: Path = Path("var")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database_url: str | None = None
    data_key: str | None = Field(default=None, repr=False, description="base64 AES-256 key.")
    server: ServerSettings = Field(default_factory=ServerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    retry_policies: dict[str, RetryPolicy] = Field(
        default_factory=lambda: {"default": RetryPolicy()}
    )
    connectors: dict[str, ConnectorInstance] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    payer_follow_up: PayerFollowUpSettings = Field(default_factory=PayerFollowUpSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    fhir: FhirSettings = Field(default_factory=FhirSettings)
    hl7: Hl7Settings = Field(default_factory=Hl7Settings)
    x12: X12Settings = Field(default_factory=X12Settings)
    policies: PolicySettings = Field(default_factory=PolicySettings)
    invoices: InvoiceSettings = Field(default_factory=InvoiceSettings)

    @model_validator(mode="after")
    def _references_resolve(self) -> Settings:
        self.retry_policies.setdefault("default", RetryPolicy())
        for name, instance in self.connectors.items():
            if instance.retry_policy not in self.retry_policies:
                raise ValueError(f"connectors.{name}.retry_policy names no retry policy")
        if self.fhir.notification_retry_policy not in self.retry_policies:
            raise ValueError("fhir.notification_retry_policy names no retry policy")
        for index, route in enumerate(self.routes):
            if route.connector not in self.connectors:
                raise ValueError(f"routes.{index}.connector names no connector instance")
        if self.events.retry_policy not in self.retry_policies:
            raise ValueError("events.retry_policy names no retry policy")
        for index, pickup in enumerate(self.x12.pickup):
            if pickup.connector not in self.connectors:
                raise ValueError(f"x12.pickup.{index}.connector names no connector instance")
        if self.hl7.decisions_to is not None and self.hl7.decisions_to not in self.connectors:
            raise ValueError("hl7.decisions_to names no connector instance")
        for channel, names in self.policies.channels.items():
            if any(name not in self.connectors for name in names):
                raise ValueError(f"policies.channels.{channel} names no connector instance")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.home / 'casegate.db').resolve()}"

    def route_for(self, payer_id: str, case_type: CaseType) -> str | None:
        """The connector instance for a payer: an exact payer route wins over the '*' fallback."""
        fallback = None
        for route in self.routes:
            if route.case_type is not case_type:
                continue
            if route.payer == payer_id:
                return route.connector
            if route.payer == "*" and fallback is None:
                fallback = route.connector
        return fallback


class SettingsError(ValueError):
    """Startup refuses bad settings with one line per bad key."""


def _apply_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    direct = {
        "CASEGATE_HOME": "home",
        "CASEGATE_DATABASE_URL": "database_url",
        "CASEGATE_DATA_KEY": "data_key",
    }
    for env_name, key in direct.items():
        if environ.get(env_name):
            raw[key] = environ[env_name]
    for env_name, value in environ.items():
        if not env_name.startswith(OVERRIDE_PREFIX):
            continue
        path = env_name[len(OVERRIDE_PREFIX) :].lower().split("__")
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = yaml.safe_load(value)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    path = path or (Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else None)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"{path}: cannot read settings ({type(exc).__name__})") from None
        if not isinstance(loaded, dict):
            raise SettingsError(f"{path}: the settings file must be a mapping")
        raw = loaded
    _apply_overrides(raw, environ)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_input=False)
        ]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
