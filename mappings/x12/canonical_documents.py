"""The canonical JSON document each supported transaction reads into, for `casegate convert`.

One function per transaction, keyed by set id and guide; the 278 and the acknowledgments keep
their own shapes in `conversion`. Requests (270, 276, 837) read into the case envelope the
canonical API takes; responses into their canonical results. An 835 also lists the claims its
denials would open `denial_appeal` cases for, as the appeal itself needs the submitted claim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mappings.x12.claim_status import read_276, read_277
from mappings.x12.claims import read_837
from mappings.x12.denials import denials
from mappings.x12.eligibility import read_270, read_271
from mappings.x12.loop_tree import LoopNode
from mappings.x12.remittance import read_835
from mappings.x12.schema import TransactionSpec
from mappings.x12.specs import (
    X212_276,
    X212_277,
    X221_835,
    X222_837P,
    X223_837I,
    X279_270,
    X279_271,
)

Reader = Callable[[LoopNode, TransactionSpec], dict[str, Any]]


def _eligibility_check(tree: LoopNode, _spec: TransactionSpec) -> dict[str, Any]:
    case_id, request = read_270(tree)
    payload = request.model_dump(mode="json")
    return {"case_type": "eligibility_check", "case_id": case_id, "payload": payload}


def _claim_status_check(tree: LoopNode, _spec: TransactionSpec) -> dict[str, Any]:
    case_id, request = read_276(tree)
    payload = request.model_dump(mode="json")
    return {"case_type": "claim_status", "case_id": case_id, "payload": payload}


def _eligibility(tree: LoopNode, _spec: TransactionSpec) -> dict[str, Any]:
    return {"eligibility": read_271(tree).model_dump(mode="json")}


def _claim_status(tree: LoopNode, _spec: TransactionSpec) -> dict[str, Any]:
    return {"claim_status": read_277(tree).model_dump(mode="json")}


def _claim(tree: LoopNode, spec: TransactionSpec) -> dict[str, Any]:
    case_id, claim = read_837(tree, spec.reference)
    return {"case_id": case_id, "claim": claim.model_dump(mode="json")}


def _remittance(tree: LoopNode, _spec: TransactionSpec) -> dict[str, Any]:
    remittance = read_835(tree)
    denied = []
    for payment in remittance.claims:
        adjustments, lines = denials(payment)
        if adjustments:
            denied.append(
                {
                    "patient_account_number": payment.patient_account_number,
                    "payer_claim_id": payment.payer_claim_id,
                    "denied_lines": lines,
                    "adjustments": [a.model_dump(mode="json") for a in adjustments],
                }
            )
    return {"remittance": remittance.model_dump(mode="json"), "denials": denied}


READERS: dict[tuple[str, str], Reader] = {
    (X279_270.set_id, X279_270.reference): _eligibility_check,
    (X279_271.set_id, X279_271.reference): _eligibility,
    (X212_276.set_id, X212_276.reference): _claim_status_check,
    (X212_277.set_id, X212_277.reference): _claim_status,
    (X222_837P.set_id, X222_837P.reference): _claim,
    (X223_837I.set_id, X223_837I.reference): _claim,
    (X221_835.set_id, X221_835.reference): _remittance,
}


def canonical_document(spec: TransactionSpec, tree: LoopNode) -> dict[str, Any] | None:
    """The canonical document of a validated transaction, or None if it has no reader here."""
    reader = READERS.get((spec.set_id, spec.reference))
    return reader(tree, spec) if reader else None
