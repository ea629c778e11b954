"""What counts as PHI or a secret in a log event or a span attribute, and how it is masked.

Code is written never to log PHI; these rules are the second line of defence for the day
someone logs a payload or an exception by mistake. A field is judged first by its name (one
called `member_id` or `client_secret` is masked whatever it holds), then every string is scanned
for what hides inside free text: credentials in a URL, bearer tokens, JWTs, private keys, and
the identifiers whose shape gives them away (social security and phone numbers, e-mail
addresses). A name or a birth date inside free text has no such shape, which is why the name
rules exist and why code must not log free text in the first place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

REDACTED = "[redacted]"
_MAX_DEPTH = 6

# Any of these words in a field name marks the field as PHI or a secret.
_SENSITIVE_WORDS = frozenset(
    {
        # who the patient is, and how to reach them
        "patient",
        "subscriber",
        "member",
        "mrn",
        "ssn",
        "birth",
        "dob",
        "given",
        "family",
        "surname",
        "address",
        "street",
        "city",
        "postal",
        "zip",
        "phone",
        "telecom",
        "fax",
        "email",
        # free text and raw messages
        "note",
        "notes",
        "narrative",
        "comment",
        "text",
        "payload",
        "body",
        "raw",
        "content",
        # secrets
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "credential",
        "credentials",
        "authorization",
        "cookie",
        "dsn",
    }
)
# Field names that are sensitive only as a whole ("name" alone, "api_key"; not "connector_name").
_SENSITIVE_NAMES = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "fullname",
        "middlename",
        "key",
        "apikey",
        "privatekey",
        "signingkey",
        "idempotencykey",
        "databaseurl",
        "connectionstring",
    }
)
# A field ending in one of these holds a digest, a count or a kind, never the thing itself:
# `patient_hash` and `token_sha256` exist precisely so that logs can correlate safely.
_SAFE_LAST_WORDS = frozenset(
    {"hash", "sha256", "fingerprint", "digest", "jti", "type", "count", "length", "size"}
)
_WORD = re.compile(r"[A-Z]+(?![a-z])[0-9]*|[A-Z]?[a-z]+[0-9]*|[0-9]+")

_SECRET_OR_IDENTIFIER = re.compile(
    r"(?P<pem>-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z))"
    r"|(?P<userinfo>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):[^\s@/]+@"
    r"|(?P<scheme>\b(?:[Bb]earer|[Bb]asic))\s+[A-Za-z0-9\-._~+/]+=*"
    r"|(?P<jwt>\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*)"
    r"|(?P<pair>\b(?i:password|passwd|pwd|secret|client_secret|token|access_token"
    r"|refresh_token|api_key|apikey)\s*[=:]\s*)[^\s&;,]+"
    r"|(?P<email>[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})"
    r"|(?P<ssn>\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b)"
    r"|(?P<phone>(?:\+1[\s.\-]?)?(?:\([0-9]{3}\)\s?|\b[0-9]{3}[\s.\-])[0-9]{3}[\s.\-][0-9]{4}\b)",
    re.DOTALL,
)


def _mask(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "userinfo":
        return f"{match['userinfo']}:{REDACTED}@"
    if kind == "scheme":
        return f"{match['scheme']} {REDACTED}"
    if kind == "pair":
        return f"{match['pair']}{REDACTED}"
    return REDACTED


def scrub_text(text: str) -> str:
    """The text with every embedded secret or shaped identifier masked."""
    return _SECRET_OR_IDENTIFIER.sub(_mask, text)


@lru_cache(maxsize=4096)
def is_sensitive_key(key: str) -> bool:
    """Whether a field of this name may hold PHI or a secret, whatever its value looks like.

    Names are split into words (`patientName`, `patient_name`, `patient.name` alike), so one
    vocabulary covers JSON fields, log keys and span attribute keys.
    """
    words = [w.lower() for w in _WORD.findall(key)]
    if not words:
        return False
    if words[-1] in _SAFE_LAST_WORDS and len(words) > 1:
        return False
    if "".join(words) in _SENSITIVE_NAMES:
        return True
    return any(word in _SENSITIVE_WORDS for word in words)


def scrub_value(value: Any, depth: int = 0) -> Any:
    """A copy of `value` safe to write out: strings scanned, containers walked, bytes dropped.

    Objects of unknown types are replaced by their type name: their `str()` may be anything,
    a validation error quoting its input or a model printing its fields.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return REDACTED
    if depth >= _MAX_DEPTH:
        return REDACTED
    if isinstance(value, Mapping):
        return scrub_mapping(value, depth + 1)
    if isinstance(value, Sequence | set | frozenset):
        return [scrub_value(item, depth + 1) for item in value]
    if isinstance(value, Enum):
        return scrub_value(value.value, depth + 1)
    if isinstance(value, datetime | date | timedelta | Decimal | UUID):
        return str(value)
    return f"<{type(value).__name__}>"


def scrub_mapping(fields: Mapping[Any, Any], depth: int = 0) -> dict[str, Any]:
    """Fields with PHI or secret names masked and every other value scrubbed."""
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        name = str(key)
        if is_sensitive_key(name) and value is not None:
            clean[name] = REDACTED
        else:
            clean[name] = scrub_value(value, depth)
    return clean
