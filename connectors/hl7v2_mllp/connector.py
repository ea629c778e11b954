"""Tells an EHR about prior-authorization decisions, as HL7 v2 over MLLP.

The message's MSH-10 is derived from the request's idempotency key, so a resend after a crash
or a lost ACK carries the same control id and the EHR can recognise it. The ACK decides the
outcome: AA/CA delivered; AE/CE the EHR will never take this message (dead-letter); AR/CR and
silence, try again later; anything unreadable is off protocol.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision
from connectors.contract import (
    KNOWN_OPERATIONS,
    ConnectorConfig,
    ConnectorRequest,
    ConnectorResponse,
)
from connectors.errors import (
    AuthError,
    PermanentError,
    ProtocolError,
    TransientError,
    located_problems,
)
from connectors.hl7v2_mllp.client import AckTimeout, MllpClient, NotConnected, TlsRefused
from connectors.hl7v2_mllp.config import Hl7v2MllpConfig
from connectors.hl7v2_mllp.framing import FramingError
from mappings.hl7v2 import Addressing, Hl7CodecError, decision_message, parse

NOTIFY = "ehr.notify"
WIRE_FORMAT = "hl7v2"
CONTROL_ID_LENGTH = 20  # MSH-10's limit up to v2.6


class DecisionNotice(BaseModel):
    """The payload of an `ehr.notify` request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: PriorAuthorizationRequest
    decision: Decision
    placer_order_numbers: tuple[str, ...] = ()


class Hl7v2MllpConnector:
    name: ClassVar[str] = "hl7v2_mllp"
    wire_format: ClassVar[str] = WIRE_FORMAT
    capabilities: ClassVar[frozenset[str]] = frozenset({NOTIFY})
    Config: ClassVar[type[ConnectorConfig]] = Hl7v2MllpConfig

    def __init__(self, config: Hl7v2MllpConfig) -> None:
        self._config = config
        self._addressing = Addressing(
            sending_application=config.sending_application,
            sending_facility=config.sending_facility,
            receiving_application=config.receiving_application,
            receiving_facility=config.receiving_facility,
            processing_id=config.processing_id,
            version=config.version,
        )
        self._client = MllpClient(
            config.host,
            config.port,
            tls=_tls_context(config),
            server_hostname=config.server_hostname or config.host,
            connect_timeout_seconds=config.timeout_seconds,
            ack_timeout_seconds=config.ack_timeout_seconds,
            resends=config.resends,
        )

    async def check(self) -> None:
        """Connect (and, under TLS, learn whether our certificate was taken); sends nothing."""
        try:
            await self._client.probe()
        except TlsRefused as exc:
            raise AuthError(str(exc)) from None
        except NotConnected as exc:
            raise TransientError(str(exc)) from None

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        if request.operation != NOTIFY:
            named = request.operation if request.operation in KNOWN_OPERATIONS else "unknown"
            raise PermanentError(f"hl7v2_mllp does not support the operation ({named})")
        notice = _notice(request.payload)
        message = decision_message(
            request.case_id,
            notice.request,
            notice.decision,
            form=self._config.form,
            control_id=control_id(request.idempotency_key),
            at=datetime.now(UTC),
            placer_order_numbers=notice.placer_order_numbers,
            addressing=self._addressing,
        )
        try:
            ack = await self._client.send(message)
        except AckTimeout as exc:
            raise TransientError(str(exc), wire_request=message) from None
        except TlsRefused as exc:
            raise AuthError(str(exc), wire_request=message) from None
        except NotConnected as exc:
            raise TransientError(str(exc), wire_request=message) from None
        except FramingError as exc:
            raise ProtocolError(f"the ACK is not readable MLLP ({type(exc).__name__})") from None
        _classify(ack, message)
        return ConnectorResponse(
            decision=notice.decision,  # the decision the EHR now holds
            wire_format=WIRE_FORMAT,
            wire_request=message,
            wire_response=ack,
            payer_reference=None,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def control_id(idempotency_key: str) -> str:
    """The same key gives the same MSH-10, short enough for every version we send."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:CONTROL_ID_LENGTH]


def _tls_context(config: Hl7v2MllpConfig) -> ssl.SSLContext | None:
    if config.tls is None:
        return None
    context = config.tls.ssl_context()
    return context if isinstance(context, ssl.SSLContext) else ssl.create_default_context()


def _notice(payload: Mapping[str, Any]) -> DecisionNotice:
    try:
        return DecisionNotice.model_validate(payload)
    except ValidationError as exc:
        where = ", ".join(located_problems(exc))
        raise PermanentError(f"payload is not a decision notice at: {where}") from None


def _classify(ack: bytes, message: bytes) -> None:
    try:
        msa = parse(ack).first("MSA")
    except Hl7CodecError:
        raise ProtocolError(
            "the answer is not an HL7 message", wire_request=message, wire_response=ack
        ) from None
    code = msa.value(1) if msa is not None else ""
    if code in ("AA", "CA"):
        return
    if code in ("AE", "CE"):
        raise PermanentError(f"the EHR answered {code}", wire_request=message, wire_response=ack)
    if code in ("AR", "CR"):
        raise TransientError(f"the EHR answered {code}", wire_request=message, wire_response=ack)
    raise ProtocolError("the answer carries no ACK code", wire_request=message, wire_response=ack)
