"""Audit rows as FHIR R4B AuditEvent resources, shaped after IHE Basic Audit Log Patterns.

A SIEM or a compliance reviewer reads the standard resource, not our table: the agent carries
the client id, the token id (as its policy) and the network address; entities carry the case,
the patient reference (a keyed hash, never a name or member id), the payer and the trace id.
Building through `fhir.resources` validates every resource before it leaves.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fhir.resources.R4B.auditevent import AuditEvent

from gateway.audit.entries import (
    AUDIT_EXPORT,
    AUTHN_REJECTED,
    AUTHZ_DENIED,
    CASE_HISTORY_READ,
    CASE_READ,
    CASE_SEARCH,
    DLQ_REPLAY,
    MESSAGE_REPLAY,
    SUCCESS,
)
from gateway.store.records import AuditRow

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
CASE_SYSTEM = "urn:casegate:case"
PATIENT_SYSTEM = "urn:casegate:patient-hash"
PAYER_SYSTEM = "urn:casegate:payer"
CLIENT_SYSTEM = "urn:casegate:client"
TRACE_SYSTEM = "urn:casegate:trace-id"
CASEGATE_ENTITY_TYPE = "urn:casegate:audit-entity-type"

Coding = dict[str, str]


def _code(system: str, code: str, display: str) -> Coding:
    return {"system": system, "code": code, "display": display}


_REST = _code(EVENT_TYPE, "rest", "RESTful Operation")
_EXPORT = _code(DCM, "110106", "Export")
_TYPES: dict[str, Coding] = {
    AUTHN_REJECTED: _code(DCM, "110114", "User Authentication"),
    AUTHZ_DENIED: _code(DCM, "110113", "Security Alert"),
    DLQ_REPLAY: _code(DCM, "110100", "Application Activity"),
    MESSAGE_REPLAY: _code(DCM, "110100", "Application Activity"),
    AUDIT_EXPORT: _code(DCM, "110101", "Audit Log Used"),
}
_SUBTYPES: dict[str, str] = {
    CASE_READ: "read",
    CASE_HISTORY_READ: "history-instance",
    CASE_SEARCH: "search-type",
}
_SUBTYPE_BY_ACTION = {"C": "create", "R": "read", "U": "update", "D": "delete", "E": "operation"}


def _event_types(row: AuditRow) -> tuple[Coding, list[Coding]]:
    event = row.detail.get("event")
    event = event if isinstance(event, str) else ""
    if event in _TYPES:
        return _TYPES[event], []
    if "send" in row.detail:  # a worker's outbound send: data leaving for a payer or ERP
        return _EXPORT, []
    subtype = _SUBTYPES.get(event) or _SUBTYPE_BY_ACTION.get(row.action, "operation")
    return _REST, [_code(RESTFUL, subtype, subtype)]


def _agent(row: AuditRow) -> dict[str, Any]:
    agent: dict[str, Any] = {"requestor": True}
    if row.client_id is not None:
        agent["who"] = {"identifier": {"system": CLIENT_SYSTEM, "value": row.client_id}}
    else:
        agent["who"] = {"display": "unauthenticated caller"}
    if row.token_jti is not None:
        # AuditEvent.agent.policy is a uri; a jti may be any string, so it is percent-encoded.
        agent["policy"] = [quote(row.token_jti, safe=":/-._~")]
    if row.source_address is not None:
        agent["network"] = {"address": row.source_address, "type": "2"}
    return agent


def _identified(system: str, value: str, resource_type: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"identifier": {"system": system, "value": value}}
    if resource_type is not None:
        reference["type"] = resource_type
    return reference


def _entities(row: AuditRow) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if row.case_id is not None:
        entities.append(
            {
                "what": _identified(CASE_SYSTEM, row.case_id),
                "type": _code(ENTITY_TYPE, "2", "System Object"),
                "role": _code(OBJECT_ROLE, "4", "Domain Resource"),
            }
        )
    if row.patient_hash is not None:
        entities.append(
            {
                "what": _identified(PATIENT_SYSTEM, row.patient_hash, "Patient"),
                "type": _code(ENTITY_TYPE, "1", "Person"),
                "role": _code(OBJECT_ROLE, "1", "Patient"),
            }
        )
    if row.payer_id is not None:
        entities.append(
            {
                "what": _identified(PAYER_SYSTEM, row.payer_id, "Organization"),
                "type": _code(ENTITY_TYPE, "3", "Organization"),
            }
        )
    if row.trace_id is not None:
        entities.append(
            {
                "what": _identified(TRACE_SYSTEM, row.trace_id),
                "type": _code(CASEGATE_ENTITY_TYPE, "trace-id", "W3C trace id"),
            }
        )
    details = [
        {"type": key, "valueString": value if isinstance(value, str) else json.dumps(value)}
        for key, value in sorted(row.detail.items())
    ]
    if details:
        entities.append(
            {"type": _code(ENTITY_TYPE, "4", "Other"), "name": "request", "detail": details}
        )
    return entities


def audit_event(row: AuditRow) -> AuditEvent:
    """The AuditEvent for one chain entry; its id is the entry's position in the chain."""
    event_type, subtypes = _event_types(row)
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(row.id),
        "type": event_type,
        "action": row.action,
        "recorded": row.recorded.isoformat(),
        "outcome": row.outcome,
        "agent": [_agent(row)],
        "source": {
            "observer": {"display": "casegate"},
            "type": [_code(SOURCE_TYPE, "4", "Application Server")],
        },
        "entity": _entities(row),
    }
    if subtypes:
        resource["subtype"] = subtypes
    if row.purpose is not None:
        resource["purposeOfEvent"] = [{"coding": [{"system": ACT_REASON, "code": row.purpose}]}]
    reason = row.detail.get("reason")
    if row.outcome != SUCCESS and isinstance(reason, str):
        resource["outcomeDesc"] = reason
    return AuditEvent.model_validate(resource)
