"""The chain head, written to a file outside the database.

Someone who can write to the database can cut off the end of the chain, or rewrite a stretch
of it and recompute every hash after it, and the chain will still check out on its own. A copy
of the head kept elsewhere (another disk, a WORM bucket, a ticket) does not move with them:
the entry it names must still be there, with the same hash.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

FORMAT = "casegate-audit-anchor/1"
_HASH = re.compile(r"[0-9a-f]{64}")


class AnchorFileError(ValueError):
    """The anchor file cannot be read or is not an anchor; says which file and which field."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """The last entry of the chain when the anchor was taken: its id and its hash."""

    last_id: int
    hash: str
    anchored_at: datetime

    def as_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "last_id": self.last_id,
                "hash": self.hash,
                "anchored_at": self.anchored_at.isoformat(),
            },
            indent=2,
        )


def write_anchor(path: Path, anchor: Anchor) -> None:
    """Replace the file atomically and durably: a crash leaves the old anchor or the new one."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with temp.open("x", encoding="utf-8") as handle:
            handle.write(anchor.as_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise AnchorFileError(f"{path}: cannot write the anchor ({exc.strerror})") from None
    finally:
        temp.unlink(missing_ok=True)


def _field(document: dict[str, Any], path: Path, name: str) -> Any:
    if name not in document:
        raise AnchorFileError(f"{path}: the anchor has no {name!r}")
    return document[name]


def read_anchor(path: Path) -> Anchor:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnchorFileError(f"{path}: cannot read the anchor ({exc.strerror})") from None
    except (UnicodeError, ValueError):
        raise AnchorFileError(f"{path}: the anchor is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise AnchorFileError(f"{path}: not a casegate audit anchor (format {FORMAT})")
    last_id = _field(document, path, "last_id")
    if not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0:
        raise AnchorFileError(f"{path}: last_id must be a whole number of at least 0")
    digest = _field(document, path, "hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise AnchorFileError(f"{path}: hash must be 64 lowercase hexadecimal digits")
    anchored_at = _field(document, path, "anchored_at")
    try:
        when = datetime.fromisoformat(anchored_at)
    except (TypeError, ValueError):
        raise AnchorFileError(f"{path}: anchored_at must be an ISO 8601 date and time") from None
    if when.tzinfo is None:
        raise AnchorFileError(f"{path}: anchored_at must carry a UTC offset")
    return Anchor(last_id=last_id, hash=digest, anchored_at=when)
