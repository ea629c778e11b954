"""Canonical prior-authorization request -> PAS request Bundle.

fullUrls are `urn:uuid:` names derived from the case id and each resource's role, so the same
case always gives the same bundle (golden files, idempotent resubmission). The result is checked
against the R4B models and the PAS rules before it is returned: a bundle we would refuse from an
EHR is never sent to a payer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import Attachment, Diagnosis, ServiceLine
from canonical.codes import procedure_code_system
from canonical.parties import Address, Facility, Person, Provider
from mappings.fhir_pas import vocabulary as v
from mappings.fhir_pas.bundle_checks import check_bundle
from mappings.fhir_pas.errors import Issue, PasMappingError


def entry_url(case_id: str, role: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'casegate:{case_id}:{role}')}"


def fhir_number(value: Decimal, at: str) -> int | float:
    """A decimal as a JSON number, refused where a double would not keep it exactly."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise PasMappingError(
            "imprecise decimal", [Issue(at, "has more digits than a FHIR decimal keeps", "value")]
        )
    return number


def build_request_bundle(
    case_id: str, request: PriorAuthorizationRequest, *, created: datetime
) -> dict[str, Any]:
    """The PAS request Bundle for one case, Claim first; `created` stamps Claim and Bundle."""
    if created.tzinfo is None:
        raise ValueError("created must carry a UTC offset")
    builder = _Builder(case_id, request)
    claim = builder.claim(created.isoformat())
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "identifier": {"system": v.CASE_ID_SYSTEM, "value": case_id},
        "type": "collection",
        "timestamp": created.isoformat(),
        "entry": [{"fullUrl": builder.url("claim"), "resource": claim}, *builder.entries],
    }
    check_bundle(bundle, first="Claim")
    return bundle


class _Builder:
    def __init__(self, case_id: str, request: PriorAuthorizationRequest) -> None:
        self.case_id = case_id
        self.request = request
        self.entries: list[dict[str, Any]] = []

    def url(self, role: str) -> str:
        return entry_url(self.case_id, role)

    def add(self, role: str, resource: dict[str, Any]) -> dict[str, str]:
        self.entries.append({"fullUrl": self.url(role), "resource": resource})
        return {"reference": self.url(role)}

    def claim(self, created: str) -> dict[str, Any]:
        request = self.request
        patient = self.add("patient", patient_resource(request.patient, request.patient.mrn))
        payer = self.add("payer", payer_resource(request.payer.id, request.payer.name))
        coverage = self.add("coverage", self._coverage(patient, payer))
        provider = self.add("requester", provider_organization(request.requesting_provider))
        identifiers = [{"system": v.CASE_ID_SYSTEM, "value": self.case_id}]
        if request.external_reference is not None:
            identifiers.append(
                {"system": v.EXTERNAL_REFERENCE_SYSTEM, "value": request.external_reference}
            )
        claim: dict[str, Any] = {
            "resourceType": "Claim",
            "identifier": identifiers,
            "status": "active",
            "type": {"coding": [{"system": v.CLAIM_TYPE, "code": "professional"}]},
            "use": "preauthorization",
            "patient": patient,
            "created": created,
            "insurer": payer,
            "provider": provider,
            "priority": {
                "coding": [{"system": v.PROCESS_PRIORITY, "code": v.PRIORITY[request.urgency]}]
            },
        }
        if request.rendering_provider is not None:
            rendering = self.add("rendering", _practitioner(request.rendering_provider))
            claim["careTeam"] = [
                {
                    "sequence": 1,
                    "provider": rendering,
                    "role": {"coding": [{"system": v.CARE_TEAM_ROLE, "code": "primary"}]},
                }
            ]
        if request.facility is not None:
            claim["facility"] = self.add("facility", _location(request.facility))
        claim["diagnosis"] = [
            self._diagnosis(index, dx, patient) for index, dx in enumerate(request.diagnoses)
        ]
        supporting = [
            self._attachment(index, a, patient) for index, a in enumerate(request.attachments)
        ]
        if request.notes is not None:
            supporting.append(
                {
                    "sequence": len(supporting) + 1,
                    "category": _code(v.SUPPORTING_INFO_TYPE, "freeFormMessage"),
                    "valueString": request.notes,
                }
            )
        if supporting:
            claim["supportingInfo"] = supporting
        claim["insurance"] = [{"sequence": 1, "focal": True, "coverage": coverage}]
        claim["item"] = [
            self._item(index, line, patient) for index, line in enumerate(request.service_lines)
        ]
        return claim

    def _coverage(self, patient: dict[str, str], payer: dict[str, str]) -> dict[str, Any]:
        coverage = self.request.coverage
        subscriber = patient
        if coverage.subscriber is not None:
            subscriber = self.add("subscriber", patient_resource(coverage.subscriber, None))
        resource: dict[str, Any] = {
            "resourceType": "Coverage",
            "identifier": [
                {
                    "type": _code(v.MEMBER_ID_TYPE, "MB"),
                    "value": coverage.member_id,
                }
            ],
            "status": "active",
            "subscriber": subscriber,
            "subscriberId": coverage.member_id,
            "beneficiary": patient,
            "relationship": _code(
                v.SUBSCRIBER_RELATIONSHIP, v.RELATIONSHIP_CODE[coverage.relationship]
            ),
            "payor": [payer],
        }
        classes = []
        if coverage.group_number is not None:
            classes.append(
                {"type": _code(v.COVERAGE_CLASS, "group"), "value": coverage.group_number}
            )
        if coverage.plan_name is not None:
            classes.append({"type": _code(v.COVERAGE_CLASS, "plan"), "value": coverage.plan_name})
        if classes:
            resource["class"] = classes
        return resource

    def _diagnosis(self, index: int, dx: Diagnosis, patient: dict[str, str]) -> dict[str, Any]:
        code: dict[str, Any] = {"system": v.ICD10CM, "code": dx.code}
        if dx.description is not None:
            code["display"] = dx.description
        condition = self.add(
            f"condition:{index}",
            {"resourceType": "Condition", "code": {"coding": [code]}, "subject": patient},
        )
        diagnosis: dict[str, Any] = {"sequence": index + 1, "diagnosisReference": condition}
        if index == 0:
            diagnosis["type"] = [_code(v.DIAGNOSIS_TYPE, "principal")]
        return diagnosis

    def _attachment(
        self, index: int, attachment: Attachment, patient: dict[str, str]
    ) -> dict[str, Any]:
        identifiers = [{"system": v.SHA256_SYSTEM, "value": attachment.sha256}]
        if attachment.message_id is not None:
            identifiers.append({"system": v.MESSAGE_STORE_SYSTEM, "value": attachment.message_id})
        document = self.add(
            f"document:{index}",
            {
                "resourceType": "DocumentReference",
                "identifier": identifiers,
                "status": "current",
                "type": _code(v.X12_REPORT_TYPE, attachment.kind),
                "subject": patient,
                "content": [
                    {
                        "attachment": {
                            "contentType": attachment.media_type,
                            "title": attachment.title,
                            "size": attachment.size,
                        }
                    }
                ],
            },
        )
        return {
            "sequence": index + 1,
            "category": _code(v.SUPPORTING_INFO_TYPE, "additionalInformation"),
            "valueReference": document,
        }

    def _item(self, index: int, line: ServiceLine, patient: dict[str, str]) -> dict[str, Any]:
        at = f"Bundle.entry[0].resource.item[{index}]"
        system = v.PROCEDURE_SYSTEM[procedure_code_system(line.procedure_code)]
        product: dict[str, Any] = {"coding": [{"system": system, "code": line.procedure_code}]}
        if line.description is not None:
            product["text"] = line.description
        requested = self.add(f"service:{line.sequence}", self._requested(line, patient, at))
        period = {"start": line.service_period.start.isoformat()}
        if line.service_period.end is not None:
            period["end"] = line.service_period.end.isoformat()
        item: dict[str, Any] = {
            "extension": [{"url": v.REQUESTED_SERVICE_URL, "valueReference": requested}],
            "sequence": line.sequence,
            "productOrService": product,
        }
        if line.modifiers:
            item["modifier"] = [
                {"coding": [{"system": system, "code": modifier}]} for modifier in line.modifiers
            ]
        item["servicedPeriod"] = period
        if line.place_of_service is not None:
            item["locationCodeableConcept"] = _code(v.PLACE_OF_SERVICE, line.place_of_service)
        item["quantity"] = {
            "value": fhir_number(line.units, f"{at}.quantity.value"),
            "system": v.X12_UNIT,
            "code": line.unit_type.value,
        }
        if self.request.rendering_provider is not None:
            item["careTeamSequence"] = [1]
        return item

    def _requested(self, line: ServiceLine, patient: dict[str, str], at: str) -> dict[str, Any]:
        system = v.PROCEDURE_SYSTEM[procedure_code_system(line.procedure_code)]
        if line.drug is None:
            return {
                "resourceType": "ServiceRequest",
                "status": "active",
                "intent": "order",
                "code": _code(system, line.procedure_code),
                "subject": patient,
            }
        return {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": _code(v.NDC, line.drug.ndc),
            "subject": patient,
            "dispenseRequest": {
                "quantity": {
                    "value": fhir_number(line.drug.quantity, f"{at}.drug.quantity"),
                    "system": v.X12_UNIT,
                    "code": line.drug.unit,
                }
            },
        }


def _code(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _address(address: Address) -> dict[str, Any]:
    fields: dict[str, Any] = {"line": list(address.line) or None, "city": address.city}
    fields |= {"state": address.state, "postalCode": address.postal_code}
    return {key: value for key, value in fields.items() if value is not None}


def patient_resource(person: Person, mrn: str | None) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if mrn is not None:
        patient["identifier"] = [{"type": _code(v.MEMBER_ID_TYPE, "MR"), "value": mrn}]
    patient["name"] = [{"family": person.family, "given": [person.given]}]
    patient["gender"] = person.sex.value
    patient["birthDate"] = person.birth_date.isoformat()
    if person.address is not None:
        patient["address"] = [_address(person.address)]
    return patient


def payer_resource(payer_id: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": v.PAYER_ID, "value": payer_id}],
        "name": name,
    }


def provider_organization(provider: Provider) -> dict[str, Any]:
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [{"system": v.NPI, "value": provider.npi}],
        "name": provider.name,
    }
    if provider.taxonomy is not None:
        organization["type"] = [_code(v.NUCC_TAXONOMY, provider.taxonomy)]
    return organization


def _practitioner(provider: Provider) -> dict[str, Any]:
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "identifier": [{"system": v.NPI, "value": provider.npi}],
        "name": [{"text": provider.name}],
    }
    if provider.taxonomy is not None:
        practitioner["qualification"] = [{"code": _code(v.NUCC_TAXONOMY, provider.taxonomy)}]
    return practitioner


def _location(facility: Facility) -> dict[str, Any]:
    location: dict[str, Any] = {
        "resourceType": "Location",
        "identifier": [{"system": v.NPI, "value": facility.npi}],
        "name": facility.name,
    }
    if facility.place_of_service is not None:
        location["type"] = [_code(v.PLACE_OF_SERVICE, facility.place_of_service)]
    if facility.address is not None:
        location["address"] = _address(facility.address)
    return location
