"""The CAQH CORE connectivity envelope: the multipart form both sides of a real-time call use.

CORE's HTTP MIME multipart exchange names every field (payload type, processing mode, payload
id, time stamp, sender, receiver, rule version, the payload, and on answers an error code and
message), so the connector and the clearinghouse sandbox share this one description of it.
The payload id identifies one payload for its whole life: a resend of the same request must
carry the same id, so it is derived from the request's idempotency key.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP

RULE_VERSION = "2.2.0"
REAL_TIME = "RealTime"
PAYLOAD_TYPE = "PayloadType"
PROCESSING_MODE = "ProcessingMode"
PAYLOAD_ID = "PayloadID"
TIMESTAMP = "TimeStamp"
SENDER_ID = "SenderID"
RECEIVER_ID = "ReceiverID"
RULE_VERSION_FIELD = "CORERuleVersion"
PAYLOAD = "Payload"
USERNAME = "UserName"
PASSWORD = "Password"  # noqa: S105 - the CORE field name, not a credential
ERROR_CODE = "ErrorCode"
ERROR_MESSAGE = "ErrorMessage"
REQUIRED_FIELDS = (
    PAYLOAD_TYPE,
    PROCESSING_MODE,
    PAYLOAD_ID,
    TIMESTAMP,
    SENDER_ID,
    RECEIVER_ID,
    RULE_VERSION_FIELD,
    PAYLOAD,
)

REQUEST_TYPES: dict[str, str] = {
    "278": "X12_278_Request_005010X217E1_2",
    "270": "X12_270_Request_005010X279A1",
    "276": "X12_276_Request_005010X212",
}
RESPONSE_TYPES: dict[str, str] = {
    "278": "X12_278_Response_005010X217E1_2",
    "271": "X12_271_Response_005010X279A1",
    "277": "X12_277_Response_005010X212",
    "999": "X12_999_Response_005010X231A1",
    "TA1": "X12_TA1_Response_00501X231A1",
}
SUCCESS = "Success"
# CORE error codes, by what the sender should do about them.
AUTH_ERRORS = frozenset({"UnAuthorized"})
TRANSIENT_ERRORS = frozenset({"ReceiverDown", "ServerBusy", "ReceiverTimeout"})
PERMANENT_ERRORS = frozenset(
    {
        "PayloadTypeIllegal",
        "PayloadTypeRequired",
        "ProcessingModeIllegal",
        "ProcessingModeRequired",
        "PayloadIDIllegal",
        "PayloadIDRequired",
        "SenderIDIllegal",
        "SenderIDRequired",
        "ReceiverIDIllegal",
        "ReceiverIDRequired",
        "TimeStampIllegal",
        "VersionMismatch",
        "CORERuleVersionRequired",
    }
)
KNOWN_ERRORS = AUTH_ERRORS | TRANSIENT_ERRORS | PERMANENT_ERRORS | {SUCCESS}
_PAYLOAD_NAMESPACE = uuid.UUID("5b0f6f0e-6a57-4c1c-9a55-2f3b7c1d9e40")


class FormError(ValueError):
    """A body that is not a CORE multipart form; the text names the field, never a value."""


def payload_id_for(idempotency_key: str) -> str:
    """The same key always gives the same PayloadID (an RFC 4122 UUID, as CORE asks)."""
    return str(uuid.uuid5(_PAYLOAD_NAMESPACE, idempotency_key))


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_form(fields: Mapping[str, str | bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = f"casegate-{secrets.token_hex(12)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        data = value.encode("utf-8") if isinstance(value, str) else value
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def decode_form(body: bytes, content_type: str | None) -> dict[str, bytes]:
    """The fields of a multipart/form-data body; raises `FormError` for anything else."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise FormError("the answer is not multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    try:
        message = BytesParser(policy=HTTP).parsebytes(head + body)
    except (ValueError, TypeError, LookupError):
        raise FormError("the multipart body cannot be read") from None
    if not message.is_multipart():
        raise FormError("the multipart body has no parts")
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    if not fields:
        raise FormError("the multipart body has no named fields")
    return fields


def text_field(fields: Mapping[str, bytes], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise FormError(f"the form lacks {name}")
    try:
        text = value.decode("ascii").strip()
    except UnicodeDecodeError:
        raise FormError(f"{name} is not ASCII") from None
    return text
