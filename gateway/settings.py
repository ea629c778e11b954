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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from canonical.cases import CaseType
from gateway.auth.settings import AuthSettings

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
    pended_follow_up_seconds: float = Field(default=60.0, gt=0)


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

    @model_validator(mode="after")
    def _references_resolve(self) -> Settings:
        self.retry_policies.setdefault("default", RetryPolicy())
        for name, instance in self.connectors.items():
            if instance.retry_policy not in self.retry_policies:
                raise ValueError(f"connectors.{name}.retry_policy names no retry policy")
        for index, route in enumerate(self.routes):
            if route.connector not in self.connectors:
                raise ValueError(f"routes.{index}.connector names no connector instance")
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
