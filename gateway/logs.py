"""Structured logs: one JSON object per line on stdout, PHI and secrets masked on the way out.

Everything that logs in the process (casegate's structlog loggers and the libraries' standard
logging alike) goes through the same chain, so the redaction processor sees every line. Each
line carries what ties it to the rest: the request id, the trace and span ids, the case id and
the client id, wherever they are known. Exceptions are logged by type and stack only: their
messages (a validation error quoting its input, a database error quoting a row) are where PHI
leaks into logs by accident.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import structlog
from litestar.types import Scope
from opentelemetry import trace
from structlog.typing import EventDict, Processor

from gateway.redaction import scrub_mapping

_MAX_STACK_FRAMES = 12
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
# Client libraries log every request line or SQL statement; ours log what matters.
_QUIET_LOGGERS = ("httpx", "httpcore", "alembic", "uvicorn.access", "sqlalchemy.engine")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The HTTP request being served: set once per request, read only when a line is logged."""

    request_id: str
    scope: Scope


request_context: ContextVar[RequestContext | None] = ContextVar(
    "casegate_request_context", default=None
)


def add_request_context(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """Request id, client id, case id and trace ids, looked up when a line is written.

    Reading them lazily costs nothing on requests that log nothing (nearly all of them). The
    case id is taken from the route only when it has the shape of an id casegate issued: the
    path is caller input and may hold anything.
    """
    current = request_context.get()
    if current is not None:
        event_dict.setdefault("request_id", current.request_id)
        client_id = getattr(current.scope.get("user"), "client_id", None)
        if isinstance(client_id, str):
            event_dict.setdefault("client_id", client_id)
        case_id = (current.scope.get("path_params") or {}).get("case_id")
        if isinstance(case_id, str) and _ULID.match(case_id):
            event_dict.setdefault("case_id", case_id)
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        error = exc_info[1]
        return error if isinstance(error, BaseException) else None
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def _frames(tb: TracebackType | None) -> list[str]:
    summary = traceback.extract_tb(tb)[-_MAX_STACK_FRAMES:]
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in summary]


def summarize_exception(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """Replace an attached exception by its type, its cause chain's types and its stack."""
    event_dict.pop("stack_info", None)
    exc_info = event_dict.pop("exc_info", None)
    error = _exception_of(exc_info)
    if error is None:
        return event_dict
    event_dict.setdefault("error_type", type(error).__qualname__)
    chain: list[str] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(chain) < 5:
        chain.append(type(cause).__qualname__)
        cause = cause.__cause__ or cause.__context__
    if chain:
        event_dict["error_causes"] = chain
    event_dict["stack"] = _frames(error.__traceback__)
    return event_dict


def redact_phi(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """The last processor before rendering: PHI-named fields masked, secrets cut out of text."""
    return scrub_mapping(event_dict)


class StdoutJsonHandler(logging.Handler):
    """Writes each formatted record as one line to whatever `sys.stdout` is at that moment.

    Looking the stream up per line (rather than holding the one present at start-up) keeps
    logs going to the right place when stdout is swapped, as test runners and some process
    supervisors do.
    """

    def __init__(self) -> None:
        super().__init__()
        self._write_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with self._write_lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        # The default prints the record's message and arguments to stderr: they may be PHI.
        sys.stderr.write(f"log record from {record.name} could not be written\n")


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_request_context,
        summarize_exception,
    ]


def configure_logging(level: int = logging.INFO) -> None:
    """Route structlog and standard logging through one JSON formatter on stdout.

    Safe to call again (each app built in one process calls it): the handler is replaced,
    never added twice.
    """
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger first used before this call (at import, in a tool) would keep
        # structlog's default chain, without the redaction, for good. Logging is off the
        # request path, so the lookup per call costs nothing that matters.
        cache_logger_on_first_use=False,
    )
    handler = StdoutJsonHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_phi,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StdoutJsonHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in _QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def adopt_server_loggers() -> None:
    """Send uvicorn's own log lines through the JSON chain too.

    uvicorn installs plain-text handlers on its loggers when a server is configured, after the
    app is built; an error it logs (with a traceback quoting an exception) would bypass the
    redaction. Called once the server runs, from the app's lifespan.
    """
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
