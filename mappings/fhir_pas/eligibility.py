"""Canonical eligibility check <-> FHIR R4 CoverageEligibilityRequest / Response.

The request carries its parties as contained resources, so it travels as one resource and a
payer can answer it without a bundle. The answer becomes a canonical `EligibilityResult`, the
model an X12 271 maps to as well: coverage in force, the plan period, and per benefit item its
service types (X12 service type codes), network and whether prior authorization is needed.
Benefit amounts (deductibles, co-insurance) are not carried on this path yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from pydantic import ValidationError

from canonical.base import Period
from canonical.cases import EligibilityCheckRequest
from canonical.eligibility import Benefit, EligibilityResult
from mappings.fhir_pas import vocabulary as v
from mappings.fhir_pas.errors import Issue, PasMappingError, fhirpath
from mappings.fhir_pas.request_builder import (
    patient_resource,
    payer_resource,
    provider_organization,
)
from mappings.fhir_pas.response import PAYER_REFERENCE_SYSTEM

X12_SERVICE_TYPE = "https://codesystem.x12.org/005010/1365"
NETWORK = "http://terminology.hl7.org/CodeSystem/benefit-network"
# Where a canonical field that failed its checks came from, as a FHIRPath under the response.
_WHERE = {
    "case_id": "request",
    "payer_id": "insurer",
    "payer_name": "insurer",
    "member_id": "patient",
    "plan_period": "insurance[0].benefitPeriod",
    "benefits": "insurance[0].item",
}
_NETWORK = {True: "in", False: "out"}
_IN_NETWORK = {code: flag for flag, code in _NETWORK.items()}
ACTIVE, INACTIVE = "1", "6"  # EB01: active coverage, inactive coverage
REQUEST = "CoverageEligibilityRequest"
RESPONSE = "CoverageEligibilityResponse"


def build_eligibility_request(
    case_id: str, request: EligibilityCheckRequest, created: datetime
) -> dict[str, Any]:
    """The CoverageEligibilityRequest for one case, its parties contained."""
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": "coverage",
        "identifier": [_member(request.coverage.member_id)],
        "status": "active",
        "subscriberId": request.coverage.member_id,
        "beneficiary": {"reference": "#patient"},
        "relationship": {
            "coding": [
                {
                    "system": v.SUBSCRIBER_RELATIONSHIP,
                    "code": v.RELATIONSHIP_CODE[request.coverage.relationship],
                }
            ]
        },
        "payor": [{"reference": "#payer"}],
    }
    contained = [
        patient_resource(request.patient, request.patient.mrn) | {"id": "patient"},
        payer_resource(request.payer.id, request.payer.name) | {"id": "payer"},
        provider_organization(request.provider) | {"id": "provider"},
        coverage,
    ]
    resource: dict[str, Any] = {
        "resourceType": REQUEST,
        "contained": contained,
        "identifier": [{"system": v.CASE_ID_SYSTEM, "value": case_id}],
        "status": "active",
        "purpose": ["validation", "benefits"],
        "patient": {"reference": "#patient"},
        "servicedDate": request.as_of.isoformat(),
        "created": created.isoformat(),
        "provider": {"reference": "#provider"},
        "insurer": {"reference": "#payer"},
        "insurance": [{"focal": True, "coverage": {"reference": "#coverage"}}],
        "item": [
            {"category": {"coding": [{"system": X12_SERVICE_TYPE, "code": code}]}}
            for code in request.service_type_codes
        ],
    }
    _validated(CoverageEligibilityRequest, resource, REQUEST)
    return resource


def eligibility_member_id(document: object) -> str:
    """The member id a CoverageEligibilityRequest asks about (what a payer looks up)."""
    resource = _validated(CoverageEligibilityRequest, document, REQUEST)
    for contained in resource.get("contained") or []:
        if contained.get("resourceType") == "Coverage" and contained.get("subscriberId"):
            return str(contained["subscriberId"])
    raise PasMappingError(
        "no member id", [Issue(f"{REQUEST}.contained", "needs a Coverage with subscriberId")]
    )


def render_eligibility_response(
    request: dict[str, Any], result: EligibilityResult, *, reference: str, created: datetime
) -> dict[str, Any]:
    """The payer's answer to `request` (a validated CoverageEligibilityRequest) saying `result`:
    the coverage in force or not, the plan period, and per benefit its service types, whether
    they need prior authorization and whether the network is the plan's."""
    insurance: dict[str, Any] = {"coverage": {"display": "coverage"}}
    if result.coverage_active is not None:
        insurance["inforce"] = result.coverage_active
    if result.plan_period is not None:
        insurance["benefitPeriod"] = _fhir_period(result.plan_period)
    items = [_render_benefit(benefit) for benefit in result.benefits]
    if items:
        insurance["item"] = items
    insurer: dict[str, Any] = {"display": result.payer_name or "payer"}
    if result.payer_id is not None:
        insurer["identifier"] = {"system": v.PAYER_ID, "value": result.payer_id}
    resource: dict[str, Any] = {
        "resourceType": RESPONSE,
        "identifier": [{"system": PAYER_REFERENCE_SYSTEM, "value": reference}],
        "status": "active",
        "purpose": request["purpose"],
        "patient": {"identifier": _member(eligibility_member_id(request))},
        "servicedDate": request.get("servicedDate"),
        "created": created.isoformat(),
        "request": {"identifier": {"system": v.CASE_ID_SYSTEM, "value": _case_id(request)}},
        "outcome": "complete",
        "insurer": insurer,
        "insurance": [insurance],
    }
    _validated(CoverageEligibilityResponse, resource, RESPONSE)
    return resource


def read_eligibility_response(document: object) -> EligibilityResult:
    """The canonical result a CoverageEligibilityResponse carries: the same model an X12 271
    maps to, so a case reads alike whichever way its payer answered."""
    resource = _validated(CoverageEligibilityResponse, document, RESPONSE)
    if resource.get("outcome") == "error":
        raise PasMappingError(
            "error outcome", [Issue(f"{RESPONSE}.outcome", "the payer reports an error")]
        )
    insurance = resource.get("insurance") or []
    in_force = insurance[0].get("inforce") if insurance else None
    if not isinstance(in_force, bool):
        raise PasMappingError(
            "no answer", [Issue(f"{RESPONSE}.insurance[0].inforce", "is required", "required")]
        )
    try:
        return _result(resource, in_force)
    except ValidationError as exc:
        issues = [
            Issue(f"{RESPONSE}.{_WHERE.get(str(e['loc'][0]), '')}".rstrip("."), e["msg"], "value")
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise PasMappingError("the response does not map to a result", issues) from None


def _result(resource: dict[str, Any], in_force: bool) -> EligibilityResult:
    insurance = resource["insurance"][0]
    benefits = [_read_benefit(item, in_force) for item in insurance.get("item") or []]
    insurer = resource.get("insurer") or {}
    payer = insurer.get("identifier") or {}
    served = resource.get("servicedDate")
    period = insurance.get("benefitPeriod")
    return EligibilityResult(
        case_id=_identifier_value(resource.get("request")),
        payer_id=payer.get("value") if payer.get("system") == v.PAYER_ID else None,
        payer_name=insurer.get("display") if payer else None,
        member_id=_identifier_value(resource.get("patient")),
        coverage_active=in_force,
        authorization_required_for=[
            code for b in benefits if b.authorization_required for code in b.service_type_codes
        ],
        as_of=served,
        plan_period=_period(period) if isinstance(period, dict) else None,
        benefits=benefits,
    )


def _render_benefit(benefit: Benefit) -> dict[str, Any]:
    item: dict[str, Any] = {
        "category": {
            "coding": [{"system": X12_SERVICE_TYPE, "code": c} for c in benefit.service_type_codes]
        }
    }
    if benefit.in_network is not None:
        item["network"] = {"coding": [{"system": NETWORK, "code": _NETWORK[benefit.in_network]}]}
    if benefit.authorization_required is not None:
        item["authorizationRequired"] = benefit.authorization_required
    return item


def _read_benefit(item: dict[str, Any], in_force: bool) -> Benefit:
    """One item as an EB line: active (1) or inactive (6) coverage for its service types."""
    codings = (item.get("category") or {}).get("coding") or []
    codes = [c.get("code") for c in codings if c.get("system") == X12_SERVICE_TYPE]
    network = [
        c.get("code") for c in (item.get("network") or {}).get("coding") or [] if c.get("code")
    ]
    return Benefit(
        information=ACTIVE if in_force else INACTIVE,
        service_type_codes=codes,
        authorization_required=item.get("authorizationRequired"),
        in_network=_IN_NETWORK.get(network[0]) if network else None,
    )


def _fhir_period(period: Period) -> dict[str, str]:
    shown = {"start": period.start.isoformat()}
    if period.end is not None:
        shown["end"] = period.end.isoformat()
    return shown


def _period(period: dict[str, Any]) -> Any:
    """The period's dates only (a FHIR Period may carry ids and extensions), checked as a
    canonical Period where the result is built, so a fault is located there."""
    return {k: period[k] for k in ("start", "end") if period.get(k)}


def _identifier_value(reference: object) -> str | None:
    if not isinstance(reference, dict):
        return None
    identifier = reference.get("identifier") or {}
    value = identifier.get("value")
    return value if isinstance(value, str) else None


def _member(member_id: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": v.MEMBER_ID_TYPE, "code": "MB"}]}, "value": member_id}


def _case_id(request: dict[str, Any]) -> str:
    for entry in request.get("identifier") or []:
        if entry.get("system") == v.CASE_ID_SYSTEM:
            return str(entry["value"])
    return "unknown"


def _validated(model: Any, document: object, root: str) -> dict[str, Any]:
    if not isinstance(document, dict) or document.get("resourceType") != root:
        raise PasMappingError(
            f"not a {root}", [Issue(root, f"the document must be a {root}", "structure")]
        )
    try:
        model.model_validate(document)
    except ValidationError as exc:
        issues = [
            Issue(fhirpath(root, e["loc"]), e["msg"], "structure")
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise PasMappingError(f"invalid {root}", issues) from None
    return document
