"""Keyed hashes for identifiers that must correlate across logs, traces and audit without
revealing who they name. A plain SHA-256 of a member id is reversible by enumeration; an HMAC
under a key held by the gateway is not.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from canonical.cases import CasePayload, InvoiceExceptionRequest


class IdentifierHasher:
    def __init__(self, data_key: bytes) -> None:
        self._key = hmac.new(data_key, b"casegate identifier hash v1", hashlib.sha256).digest()

    def hash(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def patient_ref(self, payload: CasePayload) -> str | None:
        """Same patient, same payer coverage -> same reference, across cases and formats."""
        if isinstance(payload, InvoiceExceptionRequest):
            return None
        return self.hash(
            payload.payer.id, payload.coverage.member_id, str(payload.patient.birth_date)
        )

    def stored_patient_ref(self, payload: Mapping[str, Any]) -> str | None:
        """`patient_ref` of a payload as stored (JSON), which holds for one kept with data
        findings that the canonical model refuses (a PAS bundle's 9-digit NPI)."""
        try:
            parts = (payload["payer"]["id"], payload["coverage"]["member_id"])
            return self.hash(*(str(p) for p in parts), str(payload["patient"]["birth_date"]))
        except (KeyError, TypeError):
            return None
