"""The clearinghouse sandbox's CORE real-time endpoint, and the token endpoint beside it.

It checks the envelope the way a CORE-certified receiver does (required fields, processing
mode, payload type, rule version, payload id, receiver) before looking at the X12, and accepts
whichever credential it was given: CORE UserName/Password, a bearer token it issued, or (when
served with a client CA) the TLS client certificate the server already verified.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, Response, get, post

from connectors.payer_rest.sandbox_auth import TokenIssuer
from connectors.sandbox import Fault
from connectors.sandbox_kit import ECHO_LIMIT, Hold, misbehave
from connectors.sandbox_server import token_handler
from connectors.secrets import SecretRef, SecretUnavailableError
from connectors.x12_clearinghouse import core_form as core
from connectors.x12_clearinghouse.sandbox_ledger import ClearinghouseLedger

CORE_PATH = "/core"


@dataclass
class RealTimeDesk:
    ledger: ClearinghouseLedger
    users: Mapping[str, SecretRef]
    issuer: TokenIssuer | None
    certificates_trusted: bool
    hold: Hold

    def authorized(self, headers: Mapping[str, str], fields: Mapping[str, bytes] | None) -> bool:
        if self.certificates_trusted:
            return True
        bearer = headers.get("authorization")
        if self.issuer is not None and bearer and self.issuer.is_valid(bearer):
            return True
        if fields is not None:
            return self._password_ok(fields.get(core.USERNAME), fields.get(core.PASSWORD))
        basic = _basic(bearer)
        return basic is not None and self._password_ok(*basic)

    def _password_ok(self, user: bytes | None, password: bytes | None) -> bool:
        if user is None or password is None:
            return False
        expected = self.users.get(user.decode("utf-8", errors="replace"))
        if expected is None:
            return False
        try:
            secret = expected.resolve().encode()
        except SecretUnavailableError:
            return False
        return hmac.compare_digest(secret, password)


def _basic(authorization: str | None) -> tuple[bytes, bytes] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:], validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    return (user, password) if sep else None


def _form(status: int, fields: Mapping[str, str | bytes], **headers: str) -> Response[bytes]:
    body, media_type = core.encode_form(fields)
    return Response(body, status_code=status, media_type=media_type, headers=headers or None)


def _error_form(status: int, code: str, received: Mapping[str, bytes]) -> Response[bytes]:
    echo = {name: received.get(name, b"") for name in (core.PAYLOAD_ID, core.SENDER_ID)}
    return _form(
        status,
        {
            core.PAYLOAD_ID: echo[core.PAYLOAD_ID],
            core.TIMESTAMP: core.timestamp(),
            core.RULE_VERSION_FIELD: core.RULE_VERSION,
            core.ERROR_CODE: code,
            core.ERROR_MESSAGE: code,
        },
    )


def envelope_problem(fields: Mapping[str, bytes], receiver_id: str) -> str | None:
    """The CORE error code for an envelope this receiver refuses, or None."""
    for name in core.REQUIRED_FIELDS:
        if not fields.get(name):
            return f"{name}Required" if name != core.RULE_VERSION_FIELD else "VersionMismatch"
    text = {n: fields[n].decode("ascii", errors="replace").strip() for n in core.REQUIRED_FIELDS}
    if text[core.PROCESSING_MODE] != core.REAL_TIME:
        return "ProcessingModeIllegal"
    if text[core.PAYLOAD_TYPE] not in core.REQUEST_TYPES.values():
        return "PayloadTypeIllegal"
    if text[core.RULE_VERSION_FIELD] != core.RULE_VERSION:
        return "VersionMismatch"
    try:
        uuid.UUID(text[core.PAYLOAD_ID])
    except ValueError:
        return "PayloadIDIllegal"
    if text[core.RECEIVER_ID] != receiver_id:
        return "ReceiverIDIllegal"
    return None


@dataclass(frozen=True)
class _CoreFaults:
    """The faults as a CORE real-time endpoint shows them; `content_type` is the request's, to
    read the envelope an off-contract answer echoes."""

    content_type: str | None

    def unavailable(self) -> Response[bytes]:
        return Response(b"", status_code=503)

    def rate_limited(self, retry_after: int) -> Response[bytes]:
        return Response(b"", status_code=429, headers={"Retry-After": str(retry_after)})

    def bad_request(self, body: bytes) -> Response[bytes]:
        return Response(b"rejected: " + body[:ECHO_LIMIT], status_code=400, media_type="text/plain")

    def unauthorized(self) -> Response[bytes]:
        return Response(b"", status_code=401, headers={"WWW-Authenticate": "Basic"})

    def malformed(self, body: bytes) -> Response[bytes]:
        return Response(b"--broken\r\n" + body[:200], status_code=200, media_type="text/plain")

    def off_contract(self, body: bytes) -> Response[bytes]:
        """A well-formed CORE answer whose payload is not an answer at all."""
        try:
            fields = core.decode_form(body, self.content_type)
        except core.FormError:
            fields = {}
        return _form(
            200,
            {
                core.PAYLOAD_TYPE: core.RESPONSE_TYPES["278"],
                core.PROCESSING_MODE: core.REAL_TIME,
                core.PAYLOAD_ID: fields.get(core.PAYLOAD_ID, b""),
                core.TIMESTAMP: core.timestamp(),
                core.RULE_VERSION_FIELD: core.RULE_VERSION,
                core.ERROR_CODE: core.SUCCESS,
                core.PAYLOAD: fields.get(core.PAYLOAD, b"ISA") or b"ISA",
            },
        )


def build_app(desk: RealTimeDesk) -> Litestar:
    ledger = desk.ledger
    # Only a clearinghouse given OAuth clients has a token endpoint.
    tokens = [] if desk.issuer is None else [token_handler("/oauth/token", desk.issuer.issue)]

    @get(CORE_PATH)
    async def probe(request: Request[Any, Any, Any]) -> Response[bytes]:
        if not desk.authorized(request.headers, None):
            return _CoreFaults(None).unauthorized()
        return Response(b"ready", status_code=200, media_type="text/plain")

    @post(CORE_PATH, status_code=200)
    async def realtime(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        faults = _CoreFaults(request.headers.get("content-type"))
        queued = ledger.faults.take()
        if queued is not None and queued.fault is not Fault.lost_response:
            return await misbehave(faults, desk.hold, queued, body)
        try:
            fields = core.decode_form(body, request.headers.get("content-type"))
        except core.FormError:
            return Response(b"", status_code=400)
        if not desk.authorized(request.headers, fields):
            return _error_form(401, "UnAuthorized", fields)
        problem = envelope_problem(fields, ledger.interchange_id)
        if problem is not None:
            return _error_form(400, problem, fields)
        payload_id = fields[core.PAYLOAD_ID].decode("ascii").strip()
        answer = await asyncio.to_thread(ledger.answer, payload_id, fields[core.PAYLOAD])
        if queued is not None:
            return await misbehave(faults, desk.hold, queued, body)
        return _form(
            200,
            {
                core.PAYLOAD_TYPE: answer.payload_type,
                core.PROCESSING_MODE: core.REAL_TIME,
                core.PAYLOAD_ID: payload_id,
                core.TIMESTAMP: core.timestamp(),
                core.SENDER_ID: ledger.interchange_id,
                core.RECEIVER_ID: fields[core.SENDER_ID],
                core.RULE_VERSION_FIELD: core.RULE_VERSION,
                core.ERROR_CODE: core.SUCCESS,
                core.ERROR_MESSAGE: "None",
                core.PAYLOAD: answer.data,
            },
        )

    return Litestar(
        route_handlers=[probe, realtime, *tokens],
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
