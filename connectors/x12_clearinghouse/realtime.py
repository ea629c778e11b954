"""Real-time transport: one CORE multipart POST carries the interchange, the answer comes back.

Credentials travel the way the clearinghouse asks: CORE UserName/Password fields, an OAuth2
bearer token (client credentials), or the TLS client certificate. Only the X12 payloads are
handed back as wire bytes, never the form, which holds the password.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from dataclasses import dataclass

import httpx

from connectors.contract import ConnectorRequest
from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    ProtocolError,
    TransientError,
)
from connectors.http import HttpConnector
from connectors.oauth import BearerTokenAuth, ClientCredentialsTokens
from connectors.secrets import SecretUnavailableError
from connectors.x12_clearinghouse import core_form as core
from connectors.x12_clearinghouse.config import RealTimeAuth, RealTimeConfig, TradingPartner


@dataclass(frozen=True)
class RealTimeAnswer:
    payload_type: str
    payload: bytes


class BasicCredentials(httpx.Auth):
    """HTTP Basic for the connectivity probe, which carries no form to put credentials in."""

    def __init__(self, auth: RealTimeAuth) -> None:
        self._auth = auth

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        if request.method == "GET":
            pair = f"{self._auth.username}:{_password(self._auth)}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        yield request


def _password(auth: RealTimeAuth) -> str:
    assert auth.password is not None
    try:
        return auth.password.resolve()
    except SecretUnavailableError as exc:
        raise AuthError(str(exc)) from None


class RealTimeTransport:
    def __init__(
        self,
        config: RealTimeConfig,
        *,
        sender: TradingPartner,
        receiver: TradingPartner,
        timeout_seconds: float,
    ) -> None:
        self._config = config
        self._sender = sender
        self._receiver = receiver
        self._tokens: ClientCredentialsTokens | None = None
        auth: httpx.Auth | None = None
        if config.auth.oauth is not None and config.auth.method == "oauth2":
            self._tokens = ClientCredentialsTokens(
                config.auth.oauth,
                timeout_seconds=timeout_seconds,
                verify=config.tls.ssl_context(),
            )
            auth = BearerTokenAuth(self._tokens)
        elif config.auth.method == "client_secret":
            auth = BasicCredentials(config.auth)
        self._http = HttpConnector(
            base_url=config.url, timeout_seconds=timeout_seconds, auth=auth, tls=config.tls
        )

    async def check(self) -> None:
        await self._http.exchange("GET", "", None)

    async def send(self, request: ConnectorRequest, set_id: str, payload: bytes) -> RealTimeAnswer:
        fields: dict[str, str | bytes] = {
            core.PAYLOAD_TYPE: core.REQUEST_TYPES[set_id],
            core.PROCESSING_MODE: core.REAL_TIME,
            core.PAYLOAD_ID: core.payload_id_for(request.idempotency_key),
            core.TIMESTAMP: core.timestamp(),
            core.SENDER_ID: self._sender.id,
            core.RECEIVER_ID: self._receiver.id,
            core.RULE_VERSION_FIELD: core.RULE_VERSION,
        }
        if self._config.auth.method == "client_secret":
            fields[core.USERNAME] = self._config.auth.username or ""
            fields[core.PASSWORD] = _password(self._config.auth)
        fields[core.PAYLOAD] = payload
        body, media_type = core.encode_form(fields)
        try:
            exchange = await self._http.exchange("POST", "", request, body, media_type=media_type)
        except ConnectorError as exc:
            # The form holds the password: keep only the X12 with the error.
            exc.wire_request = payload
            raise
        return _answer(exchange.wire_response, payload)

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._tokens is not None:
            await self._tokens.aclose()


def _answer(body: bytes, sent: bytes) -> RealTimeAnswer:
    try:
        fields = core.decode_form(body, _sniffed_type(body))
        error_code = core.text_field(fields, core.ERROR_CODE)
    except core.FormError as exc:
        raise ProtocolError(
            f"the CORE answer is off contract: {exc}", wire_request=sent, wire_response=body
        ) from None
    if error_code != core.SUCCESS:
        named = error_code if error_code in core.KNOWN_ERRORS else "an unknown code"
        reason = f"the clearinghouse refused the envelope: CORE {named}"
        if error_code in core.AUTH_ERRORS:
            raise AuthError(reason, wire_request=sent, wire_response=body)
        if error_code in core.TRANSIENT_ERRORS:
            raise TransientError(reason, wire_request=sent, wire_response=body)
        raise PermanentError(reason, wire_request=sent, wire_response=body)
    payload = fields.get(core.PAYLOAD)
    try:
        payload_type = core.text_field(fields, core.PAYLOAD_TYPE)
    except core.FormError as exc:
        raise ProtocolError(
            f"the CORE answer is off contract: {exc}", wire_request=sent, wire_response=body
        ) from None
    if not payload:
        raise ProtocolError(
            "the CORE answer carries no payload", wire_request=sent, wire_response=body
        )
    return RealTimeAnswer(payload_type, payload)


def _sniffed_type(body: bytes) -> str | None:
    """The multipart content type, from the boundary that opens the body."""
    first = body.split(b"\r\n", 1)[0]
    if not first.startswith(b"--") or len(first) > 72:
        return None
    boundary = first[2:].decode("ascii", errors="replace")
    return f'multipart/form-data; boundary="{boundary}"'
