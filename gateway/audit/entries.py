"""The audit entries that no case transaction writes: refusals, reads and admin actions.

Each names its kind in `detail["event"]`, which the FHIR export turns into AuditEvent.type.
Details hold only what cannot be PHI: fixed reason phrases, route templates (never the path a
caller sent, which may carry a member id), keyed hashes and counts.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from typing import Any

from gateway.store.records import NewAuditEntry

AUTHN_REJECTED = "authn.rejected"
AUTHZ_DENIED = "authz.denied"
CASE_READ = "case.read"
CASE_HISTORY_READ = "case.events.read"
CASE_SEARCH = "case.search"
CASE_NOT_FOUND = "case.not_found"
DLQ_REPLAY = "dlq.replay"
MESSAGE_REPLAY = "message.replay"
AUDIT_EXPORT = "audit.export"

# FHIR AuditEvent.outcome: 0 success, 4 minor failure (a refused request, HTTP 4xx).
SUCCESS = "0"
REFUSED = "4"
# The purpose of use of every authenticated call (v3-ActReason: healthcare operations).
OPERATIONS = "HOPERAT"
# ... and of an operator's administrative command (v3-ActReason: system administration).
ADMINISTRATION = "HSYSADMIN"


def authentication_rejected(
    *,
    reason: str,
    token_sha256: str | None,
    source_address: str | None,
    method: str,
    route: str,
    trace_id: str | None,
) -> NewAuditEntry:
    """A 401: no usable token. Nobody is known, so only the network address is the agent."""
    detail: dict[str, Any] = {
        "event": AUTHN_REJECTED,
        "reason": reason,
        "method": method,
        "route": route,
    }
    if token_sha256 is not None:
        detail["token_sha256"] = token_sha256
    return NewAuditEntry(
        action="E",
        outcome=REFUSED,
        client_id=None,
        token_jti=None,
        source_address=source_address,
        case_id=None,
        patient_hash=None,
        payer_id=None,
        purpose=None,
        trace_id=trace_id,
        detail=detail,
    )


def access_denied(
    *,
    client_id: str,
    token_jti: str,
    token_sha256: str | None,
    source_address: str | None,
    required_scopes: Iterable[str],
    method: str,
    route: str,
    trace_id: str | None,
) -> NewAuditEntry:
    """A 403: a valid token without the scope the route demands."""
    detail: dict[str, Any] = {
        "event": AUTHZ_DENIED,
        "reason": "insufficient scope",
        "required_scopes": sorted(required_scopes),
        "method": method,
        "route": route,
    }
    if token_sha256 is not None:
        detail["token_sha256"] = token_sha256
    return NewAuditEntry(
        action="E",
        outcome=REFUSED,
        client_id=client_id,
        token_jti=token_jti,
        source_address=source_address,
        case_id=None,
        patient_hash=None,
        payer_id=None,
        purpose=OPERATIONS,
        trace_id=trace_id,
        detail=detail,
    )


def operator_name() -> str:
    """The operating-system user running a command: who an admin entry names."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def admin_action(
    *, operator: str, action: str, event: str, detail: dict[str, Any]
) -> NewAuditEntry:
    """An operator's command-line action; the agent is the operating-system user."""
    return NewAuditEntry(
        action=action,
        outcome=SUCCESS,
        client_id=f"cli:{operator}",
        token_jti=None,
        source_address=None,
        case_id=None,
        patient_hash=None,
        payer_id=None,
        purpose=ADMINISTRATION,
        trace_id=None,
        detail={"event": event, **detail},
    )
