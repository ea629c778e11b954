"""Who is calling: what a verified access token says about its bearer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a verified token.

    ``jti`` identifies the token for audit records (AuditEvent agent policy) without keeping the
    token itself anywhere.
    """

    client_id: str
    tenant: str
    scopes: frozenset[str]
    jti: str
    expires_at: datetime

    def has_scopes(self, *scopes: str) -> bool:
        return self.scopes.issuperset(scopes)
