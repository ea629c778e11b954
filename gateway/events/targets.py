"""Where a subscription's events go, and how one delivery is carried there.

Two kinds of target share every other part of delivery (lanes, order, retries, dead letters):
a `webhook` (an HTTPS POST signed in the Standard Webhooks form) and `connector:<instance>`
(the connector pool's instance, asked for `erp.post` with the event as payload, so an ERP
connector receives events exactly as a webhook receiver would). Failures are reported as
connector errors, whose class alone decides between retrying and dead-lettering.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

import httpx

from connectors.contract import ConnectorRequest
from connectors.errors import AuthError, PermanentError, TransientError
from connectors.http import error_for_status, error_for_transport
from gateway.dispatch.connector_pool import ConnectorPool
from gateway.events.signing import signed_headers
from gateway.store.subscriptions import DeliveryRow

CONNECTOR_OPERATION = "erp.post"
WEBHOOK = "webhook"
CONNECTOR_PREFIX = "connector:"
USER_AGENT = "casegate-webhooks/1"


@dataclass(frozen=True, slots=True)
class Target:
    kind: Literal["webhook", "connector"]
    url: str | None = None
    instance: str | None = None

    @property
    def stored_kind(self) -> str:
        return WEBHOOK if self.kind == WEBHOOK else f"{CONNECTOR_PREFIX}{self.instance}"

    @classmethod
    def from_stored(cls, kind: str, url: str | None) -> Target:
        if kind == WEBHOOK:
            return cls(kind="webhook", url=url)
        return cls(kind="connector", instance=kind.removeprefix(CONNECTOR_PREFIX))


def event_body(delivery: DeliveryRow) -> bytes:
    """The bytes that are signed and sent: the same for every attempt of one delivery."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


class EventSender:
    """Carries deliveries for one subscription lane (its own connection pool, so a target that
    hangs ties up no connection another subscription needs)."""

    def __init__(self, connectors: ConnectorPool, timeout_seconds: float) -> None:
        self._connectors = connectors
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            # A redirect would send the event (and its signature) wherever the target points.
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def send(self, target: Target, delivery: DeliveryRow, secrets: list[str]) -> None:
        if target.kind == WEBHOOK:
            assert target.url is not None
            await self._post(target.url, delivery, secrets)
        else:
            assert target.instance is not None
            await self._connector(target.instance, delivery)

    async def _post(self, url: str, delivery: DeliveryRow, secrets: list[str]) -> None:
        body = event_body(delivery)
        headers = {
            "Content-Type": "application/json",
            **signed_headers(secrets, delivery.event_id, int(time.time()), body),
        }
        try:
            request = self._http.build_request("POST", url, content=body, headers=headers)
            response = await self._http.send(request, stream=True)
            await response.aclose()  # the receiver's answer body means nothing here
        except httpx.HTTPError as exc:
            raise error_for_transport(exc) from None
        error = error_for_status(response.status_code, response.headers.get("Retry-After"))
        if isinstance(error, AuthError):
            # A receiver refusing the signature is usually mid-rotation: worth another try.
            raise TransientError(error.reason)
        if error is not None:
            raise error

    async def _connector(self, instance: str, delivery: DeliveryRow) -> None:
        try:
            connector = await self._connectors.get(instance)
        except KeyError:
            raise PermanentError(f"connector instance {instance} is not configured") from None
        if CONNECTOR_OPERATION not in connector.capabilities:
            raise PermanentError(f"connector {instance} cannot {CONNECTOR_OPERATION}")
        await connector.send(
            ConnectorRequest(
                operation=CONNECTOR_OPERATION,
                idempotency_key=delivery.event_id,
                case_id=delivery.case_id,
                case_type=str(delivery.payload["case"]["type"]),
                payload=delivery.payload,
            )
        )

    async def aclose(self) -> None:
        await self._http.aclose()
