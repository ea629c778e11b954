"""A PAS bundle from an EHR -> the intake record every edge writes, plus the facade's own row.

The same Claim from the same client is one case: the Claim identifier (as a keyed hash, it
may be a patient account number) is the idempotency key in the submitter's own namespace,
and the fingerprint is the canonical request, so a resent bundle with a new timestamp or
another JSON layout still finds its case, while different content under a used identifier is
refused. Data-quality findings travel on the case's first event: located, never valued; and
hold the case for a person, as the policies' own holds do (see facade_holds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import CaseType
from canonical.events import case_created
from canonical.status import CaseStatus
from gateway.fhir.facade_holds import facade_plan
from gateway.intake import SEND_JOB, Caller, event_record, fingerprint
from gateway.phi import IdentifierHasher
from gateway.store.ids import new_id
from gateway.store.intake import ExtraRow, IntakeRecord
from gateway.store.records import IdempotencyClaim, NewCase, NewJob
from gateway.store.schema import fhir_facade_claims
from mappings.fhir_pas import vocabulary as v
from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.request_reader import CLAIM, LenientRequest
from policies.book import PolicyBook

SUBMIT_FORMAT = "fhir-pas/claim-submit"
INQUIRE_FORMAT = "fhir-pas/claim-inquire"
IDEMPOTENCY_PREFIX = "urn:casegate:fhir-pas:claim:"
_CLIENT_PARAMETER = ";client="


def sent_by(wire_format: str, client_id: str) -> str:
    """A refused bundle's stored format names its sender, as a media type names a parameter:
    a replay must open the case in that client's namespace, where its EHR will look for it.
    Client ids are configuration, not PHI."""
    return f"{wire_format}{_CLIENT_PARAMETER}{client_id}"


def sender_of(stored_format: str) -> tuple[str, str | None]:
    """(wire format, sending client) of a stored format; None when none was recorded."""
    wire_format, found, client_id = stored_format.partition(_CLIENT_PARAMETER)
    return wire_format, client_id if found and client_id else None


@dataclass(frozen=True, slots=True)
class FacadeClaim:
    """A case opened through the facade, as the facade needs it to answer about it."""

    case_id: str
    tenant: str
    client_id: str
    claim_identifier: dict[str, str]
    org_identifier: str | None
    request_message_id: str


def claim_identifier(claim: dict[str, Any]) -> dict[str, str]:
    """The Claim's business identifier (PAS: the submitter's trace number), system and value."""
    for entry in claim.get("identifier") or []:
        value = entry.get("value")
        if isinstance(value, str) and value:
            found = {"value": value}
            if isinstance(entry.get("system"), str):
                found["system"] = entry["system"]
            return found
    raise PasMappingError(
        "no Claim identifier",
        [Issue(f"{CLAIM}.identifier", "the Claim needs an identifier with a value", "required")],
    )


def claim_key(hasher: IdentifierHasher, identifier: dict[str, str]) -> str:
    return IDEMPOTENCY_PREFIX + hasher.hash(
        "fhir-pas-claim", identifier.get("system", ""), identifier["value"]
    )


def org_identifier(read: LenientRequest) -> str | None:
    """The requesting organization's NPI, which PAS subscriptions filter on (orgIdentifier)."""
    _, provider = read.bundle.resolve(read.bundle.first.get("provider"), "Organization", CLAIM)
    for entry in provider.get("identifier") or []:
        if entry.get("system") == v.NPI and isinstance(entry.get("value"), str):
            return str(entry["value"])
    return None


def facade_case(
    *,
    read: LenientRequest,
    raw: bytes,
    caller: Caller,
    hasher: IdentifierHasher,
    trace_context: dict[str, str],
    trace_id: str | None,
    policies: PolicyBook,
) -> IntakeRecord:
    """The record of a new case from an accepted bundle; a replay of its Claim writes nothing.

    The case is decided in the same commit, as on `/v1`: a held case waits for a person
    (work items instead of a send job), any other is sent on the decision's route."""
    now = datetime.now(UTC)
    case_id = new_id()
    payload = read.payload
    identifier = claim_identifier(read.bundle.first)
    payer_id = str(payload["payer"]["id"])
    plan = facade_plan(
        policies,
        payload=payload,
        findings=read.findings,
        case_id=case_id,
        tenant=caller.tenant,
        now=now,
    )
    status = CaseStatus.more_info_requested if plan.held else CaseStatus.draft
    created: dict[str, Any] = {"source": "fhir-pas", **plan.facts}
    if trace_id:
        created["trace_id"] = trace_id
    if read.findings:
        created["findings"] = [
            {"expression": issue.expression, "diagnostics": issue.diagnostics}
            for issue in read.findings
        ]
    message = caller.inbound(raw, SUBMIT_FORMAT, now, case_id=case_id, error=None)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return IntakeRecord(
        idempotency=IdempotencyClaim(
            client_id=caller.client_id,
            key=claim_key(hasher, identifier),
            fingerprint=fingerprint(canonical),
            response_status=200,
            response_body=json.dumps({"case_id": case_id}).encode(),
        ),
        case=NewCase(
            id=case_id,
            tenant=caller.tenant,
            type=CaseType.prior_authorization.value,
            status=status.value,
            payer_id=payer_id,
            urgency=str(payload.get("urgency", "standard")),
            payload=payload,
            created_at=now,
        ),
        event=event_record(case_created(case_id, status, now, created)),
        job=None
        if plan.send_payload is None
        else NewJob(
            kind=SEND_JOB,
            case_id=case_id,
            connector=None,
            payload=plan.send_payload,
            trace_context=trace_context,
            available_at=now,
        ),
        message=message,
        audit=caller.audit(
            "C",
            "0",
            case_id=case_id,
            patient_hash=hasher.stored_patient_ref(payload),
            payer_id=payer_id,
            trace_id=trace_id,
            detail={"case_type": CaseType.prior_authorization.value, "source": "fhir-pas"},
        ),
        extra=(
            ExtraRow(
                fhir_facade_claims,
                {
                    "case_id": case_id,
                    "tenant": caller.tenant,
                    "client_id": caller.client_id,
                    "claim_key": claim_key(hasher, identifier),
                    "claim_identifier": identifier,
                    "org_identifier": org_identifier(read),
                    "request_message_id": message.id,
                    "created_at": now,
                },
            ),
        ),
        policy=plan.policy,
        work_items=plan.work_items,
    )


def _facade_claim(row: sa.Row[Any]) -> FacadeClaim:
    return FacadeClaim(
        case_id=row.case_id,
        tenant=row.tenant,
        client_id=row.client_id,
        claim_identifier=dict(row.claim_identifier),
        org_identifier=row.org_identifier,
        request_message_id=row.request_message_id,
    )


async def find_by_claim(conn: AsyncConnection, client_id: str, key: str) -> FacadeClaim | None:
    """The submitter's case for a Claim identifier; another client's claims stay invisible."""
    query = sa.select(fhir_facade_claims).where(
        fhir_facade_claims.c.client_id == client_id, fhir_facade_claims.c.claim_key == key
    )
    row = (await conn.execute(query)).first()
    return None if row is None else _facade_claim(row)


async def find_by_case(conn: AsyncConnection, case_id: str) -> FacadeClaim | None:
    query = sa.select(fhir_facade_claims).where(fhir_facade_claims.c.case_id == case_id)
    row = (await conn.execute(query)).first()
    return None if row is None else _facade_claim(row)
