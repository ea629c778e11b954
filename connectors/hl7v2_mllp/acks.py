"""The ACKs the listener itself answers with, when the handler never saw the message.

Each echoes the sender's MSH-10 (read from the raw bytes, even when the whole message would
not parse) so the sender can match it. Nothing here quotes message content: ERR text names
the rule that failed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mappings.hl7v2 import (
    ErrorCode,
    Issue,
    Location,
    Message,
    Segment,
    Sender,
    acknowledge,
    header_of,
    parse,
    serialize,
)
from mappings.hl7v2.codec import components, repeated

INTERNAL_ERROR = ("207", "Application internal error", "HL70357")


def control_id() -> str:
    """A fresh MSH-10 for an ACK: 20 characters, the limit up to v2.6."""
    return uuid.uuid4().hex[:20]


def issue_ack(message: bytes, issues: tuple[Issue, ...], sender: Sender) -> bytes:
    return acknowledge(
        header_of(message), issues, control_id=control_id(), at=datetime.now(UTC), sender=sender
    )


def too_large_ack(head: bytes, sender: Sender) -> bytes:
    issue = Issue(
        Location(), ErrorCode.value_too_long, "the message is longer than this listener takes"
    )
    return issue_ack(head, (issue,), sender)


def not_allowed_ack(message: bytes, field: int | None, sender: Sender) -> bytes:
    """AR for a sender off the allow list; `field` is the MSH field that failed, None for the
    client address."""
    where = Location("MSH", 1, 1, field) if field is not None else Location()
    what = "the sender's address" if field is None else f"MSH-{field}"
    issue = Issue(where, ErrorCode.table_value_not_found, f"{what} is not on the allow list")
    return issue_ack(message, (issue,), sender)


def internal_error_ack(message: bytes, sender: Sender) -> bytes:
    """AR (CR in enhanced mode) with ERR code 207: nothing was stored, the sender should
    resend. Table 0357's 207 is not among the codec's codes, so ERR is written here."""
    header = header_of(message)
    base = parse(acknowledge(header, control_id=control_id(), at=datetime.now(UTC), sender=sender))
    accepted = base.segments[1].value(1)
    code = "CR" if accepted == "CA" else "AR"
    echoed = header.value(10) if header is not None else ""
    text = "the message was not stored; send it again"
    modern = base.header.value(12) not in ("2.3", "2.3.1", "2.4")
    if modern:
        msa = Segment.of("MSA", code, echoed)
        err = Segment.of("ERR", "", "", components(*INTERNAL_ERROR), "E", "", "", text)
    else:
        msa = Segment.of("MSA", code, echoed, text)
        err = Segment.of("ERR", repeated(((), (), (), INTERNAL_ERROR)))
    return serialize(Message((base.header, msa, err)))
