"""Canonical prior-authorization request -> the payer's JSON submission.

Quantities travel as decimal strings so no binary float ever rounds a unit count, and optional
fields are left out rather than sent as null, which this payer's validator rejects.
"""

from __future__ import annotations

from typing import Any

from canonical.cases import PriorAuthorizationRequest
from canonical.clinical import Attachment, ServiceLine
from canonical.codes import procedure_code_system
from canonical.parties import Address, Facility, Person, Provider
from mappings.payer_rest.vocabulary import GENDER, RELATIONSHIP, URGENCY, decimal_text


def build_submission(case_id: str, request: PriorAuthorizationRequest) -> dict[str, Any]:
    """The body of `POST /v1/prior-auth-requests` for one case; `requestId` is the case id."""
    coverage = request.coverage
    member = _person(request.patient)
    member.update(
        _present(
            memberId=coverage.member_id,
            groupNumber=coverage.group_number,
            planName=coverage.plan_name,
            relationship=RELATIONSHIP[coverage.relationship],
            mrn=request.patient.mrn,
        )
    )
    return _present(
        requestId=case_id,
        externalReference=request.external_reference,
        urgency=URGENCY[request.urgency],
        payer={"id": request.payer.id, "name": request.payer.name},
        member=member,
        subscriber=_person(coverage.subscriber) if coverage.subscriber else None,
        requestingProvider=_provider(request.requesting_provider),
        renderingProvider=(
            _provider(request.rendering_provider) if request.rendering_provider else None
        ),
        facility=_facility(request.facility) if request.facility else None,
        diagnoses=[
            _present(code=dx.code, primary=index == 0, description=dx.description)
            for index, dx in enumerate(request.diagnoses)
        ],
        services=[_service(line) for line in request.service_lines],
        attachments=[_attachment(a) for a in request.attachments] or None,
        notes=request.notes,
    )


def _present(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _person(person: Person) -> dict[str, Any]:
    return _present(
        firstName=person.given,
        lastName=person.family,
        birthDate=person.birth_date.isoformat(),
        gender=GENDER[person.sex],
        address=_address(person.address) if person.address else None,
    )


def _address(address: Address) -> dict[str, Any]:
    return _present(
        lines=list(address.line) or None,
        city=address.city,
        state=address.state,
        postalCode=address.postal_code,
    )


def _provider(provider: Provider) -> dict[str, Any]:
    return _present(npi=provider.npi, name=provider.name, taxonomy=provider.taxonomy)


def _facility(facility: Facility) -> dict[str, Any]:
    return _present(
        npi=facility.npi,
        name=facility.name,
        placeOfService=facility.place_of_service,
        address=_address(facility.address) if facility.address else None,
    )


def _service(line: ServiceLine) -> dict[str, Any]:
    period = line.service_period
    drug = line.drug
    return _present(
        sequence=line.sequence,
        procedureCode=line.procedure_code,
        codeSystem=procedure_code_system(line.procedure_code),
        modifiers=list(line.modifiers) or None,
        quantity=decimal_text(line.units),
        unit=line.unit_type.value,
        fromDate=period.start.isoformat(),
        toDate=period.end.isoformat() if period.end else None,
        placeOfService=line.place_of_service,
        description=line.description,
        drug=(
            {"ndc": drug.ndc, "quantity": decimal_text(drug.quantity), "unit": drug.unit}
            if drug
            else None
        ),
    )


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return _present(
        reportType=attachment.kind,
        mediaType=attachment.media_type,
        title=attachment.title,
        sizeBytes=attachment.size,
        sha256=attachment.sha256,
        documentId=attachment.message_id,
    )
