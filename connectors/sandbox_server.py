"""The HTTP routes and the server every sandbox shares: `/_sandbox/*` controls, an OAuth2
token endpoint, and running on loopback in a test's process or as the main program.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import parse_qsl

import yaml
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromQuery
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from connectors.loopback import LoopbackServer, ServerTls
from connectors.payer_rest.sandbox_auth import TokenIssuer, TokenRefused
from connectors.sandbox import Fault
from connectors.sandbox_kit import (
    ALL_TARGETS,
    API,
    TOKEN,
    FaultAnswers,
    FaultQueue,
    Hold,
    misbehave,
)

T = TypeVar("T")


@dataclass(frozen=True)
class TokenFaults:
    """Faults queued for a sandbox's token endpoint, and how its protocol shows them."""

    queue: FaultQueue
    answers: FaultAnswers
    hold: Hold


IssueToken = Callable[[Mapping[str, str], str | None, str], bytes | Awaitable[bytes]]


def token_handler(path: str, issue: IssueToken, faults: TokenFaults | None = None) -> Any:
    """`POST path`: an OAuth2 token endpoint over `issue`, which answers the token response
    body for a form, its Authorization header and the endpoint's own URL (the audience a client
    assertion names), or raises `TokenRefused`."""

    @post(path, status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        if faults is not None:
            queued = faults.queue.take(TOKEN)
            if queued is not None:
                return await misbehave(faults.answers, faults.hold, queued, body)
        form = dict(parse_qsl(body.decode("utf-8", errors="replace")))
        token_url = f"{request.url.scheme}://{request.url.netloc}{path}"
        try:
            answer = issue(form, request.headers.get("authorization"), token_url)
            if inspect.isawaitable(answer):
                answer = await answer
        except TokenRefused as refused:
            return json_response(refused.status, {"error": refused.error})
        return Response(
            answer,
            status_code=200,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},  # RFC 6749 section 5.1
        )

    return token


def json_response(
    status: int,
    body: object,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response[bytes]:
    return Response(
        json.dumps(body).encode(), status_code=status, media_type=media_type, headers=headers
    )


class FaultOrder(BaseModel):
    """The body of `POST /_sandbox/faults`."""

    model_config = ConfigDict(extra="forbid")

    fault: Fault
    count: int = Field(default=1, ge=1, le=1_000_000)
    target: str = Field(default=API, pattern="^(api|token)$")
    retry_after: int = Field(default=1, ge=0, le=3600)


@dataclass(frozen=True)
class Controls:
    """How one sandbox answers `/_sandbox/*`: what it reports, and how it refuses a bad order
    (given the fields to check) in its own protocol's form."""

    report: Callable[[str | None], object]
    faults: FaultQueue
    reset: Callable[[], None]
    refuse: Callable[[str], Response[bytes]]
    targets: frozenset[str] = ALL_TARGETS
    media_type: str = "application/json"


def control_handlers(controls: Controls) -> list[Any]:
    """`/_sandbox/effects|faults|reset`: what `connectors.sandbox.HttpSandboxControl` calls."""

    @get("/_sandbox/effects")
    async def effects(key: FromQuery[str | None] = None) -> Response[bytes]:
        return json_response(200, controls.report(key), media_type=controls.media_type)

    @post("/_sandbox/faults", status_code=200)
    async def faults(request: Request[Any, Any, Any]) -> Response[bytes]:
        raw = await request.body()
        try:
            order = FaultOrder.model_validate_json(raw)
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
            return controls.refuse(fields or "the body")
        if order.target not in controls.targets:
            return controls.refuse("target")
        controls.faults.inject(order.fault, order.count, order.target, order.retry_after)
        return Response(b"", status_code=204)

    @post("/_sandbox/reset", status_code=200)
    async def reset() -> Response[bytes]:
        controls.reset()
        return Response(b"", status_code=204)

    return [effects, faults, reset]


class LoopbackSandbox:
    """Runs a sandbox's app on loopback: in a test's process (`start`/`stop`, or `with`) or as
    the main program (`bind`, then `run`). Stopping releases every held request."""

    def __init__(
        self,
        app: Litestar,
        hold: Hold,
        faults: FaultQueue,
        *,
        targets: frozenset[str] = frozenset({API}),
        port: int = 0,
        tls: ServerTls | None = None,
    ) -> None:
        self._hold = hold
        self._faults = faults
        self._targets = targets
        self._server = LoopbackServer(app, port=port, tls=tls, on_stop=hold.released.set)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def bind(self) -> str:
        return self._server.bind()

    def start(self) -> str:
        self.bind()
        self._hold.released.clear()
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def run(self) -> None:
        """Serve in this (main) thread until interrupted."""
        self._server.run()

    def inject(
        self, fault: Fault, count: int = 1, *, target: str = API, retry_after: int = 1
    ) -> None:
        """Misbehave on the next `count` API calls (or token requests, with target="token",
        where the sandbox has a token endpoint)."""
        if target not in self._targets:
            raise ValueError(f"target must be one of {sorted(self._targets)}")
        self._faults.inject(fault, count, target, retry_after)

    def run_announced(self) -> None:
        """Serve as the main program: bind (port 0 picks one), print one JSON line with the
        bound `base_url` (connections queue from here on), then serve until interrupted."""
        base_url = self.bind()
        sys.stdout.write(json.dumps({"base_url": base_url}) + "\n")
        sys.stdout.flush()
        self.run()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PayerBook(Protocol):
    """What a fake payer's ledger offers its controls."""

    faults: FaultQueue

    def effects_of(self, key: str) -> dict[str, Any]: ...

    def report(self, token_requests: int) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def payer_controls(
    book: PayerBook,
    issuer: TokenIssuer,
    refuse: Callable[[str], Response[bytes]],
    media_type: str = "application/json",
) -> list[Any]:
    """`/_sandbox/*` of a fake payer: effects by key, or the whole report with its tokens."""

    def report(key: str | None) -> object:
        return book.report(issuer.issued) if key is None else book.effects_of(key)

    def reset() -> None:
        book.reset()
        issuer.reset_count()

    return control_handlers(Controls(report, book.faults, reset, refuse, media_type=media_type))


class PayerSandbox(LoopbackSandbox):
    """A fake payer: its token endpoint takes faults too, and it counts tokens and effects."""

    def __init__(
        self,
        app: Litestar,
        hold: Hold,
        book: PayerBook,
        issuer: TokenIssuer,
        *,
        port: int = 0,
        tls: ServerTls | None = None,
    ) -> None:
        super().__init__(app, hold, book.faults, targets=ALL_TARGETS, port=port, tls=tls)
        self._book = book
        self._issuer = issuer

    def effects(self, key: str | None = None) -> int:
        if key is not None:
            count: int = self._book.effects_of(key)["effects"]
            return count
        total: int = self.report()["totals"]["effects"]
        return total

    def duplicates(self, key: str) -> int:
        """Repeats answered from the log under `key`."""
        count: int = self._book.effects_of(key)["duplicates"]
        return count

    def token_requests(self) -> int:
        """Tokens issued since the last reset: what a token cache exists to keep low."""
        return self._issuer.issued

    def report(self) -> dict[str, Any]:
        """What `GET /_sandbox/effects` answers: totals, per key and per request."""
        return self._book.report(self._issuer.issued)

    def reset(self) -> None:
        self._book.reset()
        self._issuer.reset_count()


def load_list(path: Path, adapter: TypeAdapter[list[T]], what: str) -> list[T]:
    """A YAML or JSON list from a sandbox's command line; errors name the file and the
    entries, not the values."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raise SystemExit(f"{what} file {path} cannot be read as YAML or JSON") from None
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise SystemExit(f"{what} file {path} is invalid at: {', '.join(where)}") from None
