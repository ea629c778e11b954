"""Connector errors, grouped by what the caller should do next.

The gateway's workers decide between retrying, refreshing credentials and dead-lettering by the
class of the error alone, so every failure a connector can meet must end up as one of these.
Their text is read by operators and lands in logs and traces: it is a short, fixed phrase (an
HTTP status, a JSON pointer, an operation name) and never a request or response body. The wire
bytes of a failed exchange may ride along as attributes for the encrypted message store; they
are kept out of `str()` and `repr()`.
"""

from __future__ import annotations

from pydantic import ValidationError

MAX_REASON_LENGTH = 200


class ConnectorError(Exception):
    """Base of every error a connector raises from `check()` or `send()`."""

    def __init__(
        self, reason: str, *, wire_request: bytes = b"", wire_response: bytes = b""
    ) -> None:
        # A reason longer than a phrase is almost certainly a body that slipped in: cut it.
        self.reason = reason[:MAX_REASON_LENGTH]
        self.wire_request = wire_request
        self.wire_response = wire_response
        super().__init__(self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r})"


class TransientError(ConnectorError):
    """The far side may accept the same request later: timeouts, 429, 5xx, dropped connections.

    `retry_after` is the delay in seconds the far side asked for, when it said.
    """

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        *,
        wire_request: bytes = b"",
        wire_response: bytes = b"",
    ) -> None:
        super().__init__(reason, wire_request=wire_request, wire_response=wire_response)
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, retry_after={self.retry_after!r})"


class PermanentError(ConnectorError):
    """The same request will never succeed: send it to the dead-letter queue with this reason."""


class AuthError(ConnectorError):
    """Credentials were refused or are unavailable: refresh them, then retry later."""


class ProtocolError(ConnectorError):
    """The far side answered something unparseable or off its contract."""


def located_problems(error: ValidationError) -> dict[str, str]:
    """Dotted path -> message for each validation error, leaving out the offending input.

    For messages about configuration or case payloads, where the input may be a misplaced
    credential or a patient's details.
    """
    problems: dict[str, str] = {}
    for detail in error.errors(include_input=False, include_url=False):
        path = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        problems[path] = f"{problems[path]}; {detail['msg']}" if path in problems else detail["msg"]
    return problems
