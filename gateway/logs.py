"""Structured logs as JSON lines, with PHI redaction as one processor in the chain.

Code is written never to log PHI; the redaction processor is the second line of defence for the
day someone logs a payload by mistake: any field whose name says it may hold PHI is masked.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PHI_FIELD_NAMES = frozenset(
    {
        "address",
        "birth_date",
        "body",
        "dob",
        "family",
        "given",
        "member_id",
        "mrn",
        "name",
        "notes",
        "patient",
        "payload",
        "subscriber",
        "token",
        "authorization",
        "secret",
    }
)
REDACTED = "[redacted]"


def redact_phi(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in PHI_FIELD_NAMES:
            event_dict[key] = REDACTED
    return event_dict


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level)
    # Client libraries log every request line (URLs carry case ids); ours log what matters.
    for noisy in ("httpx", "httpcore", "alembic", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_phi,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
