"""The seam between the gateway and every connector.

Kept as small as an HTTP transport interface: the gateway hands a connector one request and
gets one response or one error back. Retries, tracing, audit and deadlines belong to the
gateway, so a connector holds none of them and a new connector stays a few hundred lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from canonical.decisions import Decision

KNOWN_OPERATIONS = frozenset(
    {
        "prior_auth.submit",
        "prior_auth.inquire",
        "prior_auth.cancel",
        "eligibility.check",
        "claim_status.inquire",
        "remittance.receive",
        "erp.post",
        "erp.lookup",
        "ehr.notify",
    }
)

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class ConnectorConfig(BaseModel):
    """Base of every connector's `Config`: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float = Field(default=10, gt=0, le=300)


@dataclass(frozen=True)
class ConnectorRequest:
    """One step of one case, as the gateway asks a connector to carry it.

    `idempotency_key` is derived from the case and the step, so a resend after a crash carries
    the same key and the far side can answer it without a second effect. `headers` holds
    context to pass on (a W3C `traceparent`), never credentials. The payload is PHI, so it is
    left out of `repr()` (and so out of any log line that prints the request).
    """

    operation: str
    idempotency_key: str
    case_id: str
    case_type: str
    payload: Mapping[str, Any] = field(repr=False)
    payer_reference: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # These travel in HTTP headers and URLs: reject what would break a request line here,
        # with a message naming the field, rather than deep inside an HTTP client.
        if not self.operation:
            raise ValueError("operation must not be empty")
        key = self.idempotency_key
        if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
            raise ValueError("idempotency_key must be 1-255 printable characters")
        if not key.isascii():
            raise ValueError("idempotency_key must be ASCII")
        if not self.case_id:
            raise ValueError("case_id must not be empty")
        if self.payer_reference is not None and not self.payer_reference:
            raise ValueError("payer_reference must be absent or non-empty")
        for name, value in self.headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError("headers: a header name is not an HTTP token")
            if not _HEADER_VALUE.match(value):
                raise ValueError(f"headers: the value of {name} has characters HTTP forbids")


@dataclass(frozen=True)
class ConnectorResponse:
    """The far side's answer: the decision it carried (if any) and the exact bytes exchanged.

    The bytes go to the encrypted message store, so a disputed decision can be shown as sent;
    they carry PHI and are left out of `repr()`. `left_out` lists the parts of the payload the
    wire format could not carry, as (JSON pointer, reason) pairs, so the case can record them.
    """

    decision: Decision | None
    wire_format: str
    wire_request: bytes = field(repr=False)
    wire_response: bytes = field(repr=False)
    payer_reference: str | None
    left_out: tuple[tuple[str, str], ...] = ()
    data: Mapping[str, Any] | None = field(default=None, repr=False)
    """What a read-only operation (a lookup) answered, in canonical field names."""


@runtime_checkable
class Connector(Protocol):
    """What the gateway's workers call. Registered under the `casegate.connectors` group."""

    name: ClassVar[str]
    wire_format: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]
    Config: ClassVar[type[ConnectorConfig]]

    def __init__(self, config: Any) -> None: ...

    async def check(self) -> None:
        """Prove connectivity and credentials without any effect at the far side."""

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        """Carry one request; raise a `connectors.errors.ConnectorError` subclass on failure."""

    async def aclose(self) -> None:
        """Release connections; calling it again does nothing."""
