"""PAS request Bundle -> canonical prior-authorization request and its case id.

The canonical model is casegate's strict contract, so a conforming bundle may still fail it
(an NPI without its check digit, say); each such failure is reported at the FHIRPath of the
element it came from, which the reader records while it copies values across.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from canonical.cases import PriorAuthorizationRequest
from canonical.parties import Relationship
from mappings.fhir_pas import vocabulary as v
from mappings.fhir_pas.bundle_checks import PasBundle, check_bundle
from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.fields import (
    coded,
    decimal,
    identifier,
    missing,
    required,
    required_code,
    typed_identifier,
)

CLAIM = "Bundle.entry[0].resource"
_REQUESTED_KINDS = ("ServiceRequest", "MedicationRequest", "DeviceRequest")


def read_request_bundle(document: object) -> tuple[str | None, PriorAuthorizationRequest]:
    """The case id the bundle names (None when it names none) and the canonical request."""
    bundle = check_bundle(document, first="Claim")
    reader = _Reader(bundle)
    payload = reader.payload()
    try:
        request = PriorAuthorizationRequest.model_validate(payload)
    except ValidationError as exc:
        issues = reader.located(exc, "error")
        raise PasMappingError("the bundle does not meet the canonical contract", issues) from None
    return identifier(bundle.first, v.CASE_ID_SYSTEM), request


@dataclass(frozen=True)
class LenientRequest:
    """A structurally sound request bundle read without casegate's stricter data checks.

    `payload` is the canonical request as JSON; with `findings` it is the request as sent (and
    fails the canonical contract at each finding), otherwise the validated, normalized one.
    """

    bundle: PasBundle
    payload: dict[str, Any]
    findings: list[Issue]

    @property
    def request(self) -> PriorAuthorizationRequest | None:
        if self.findings:
            return None
        return PriorAuthorizationRequest.model_validate(self.payload)


def read_request_bundle_leniently(document: object) -> LenientRequest:
    """Structure (FHIR R4, PAS rules, the elements a case needs) is refused as strictly as by
    `read_request_bundle`; values that only casegate's own contract rejects (an NPI without its
    check digit, as in published PAS examples) become warnings located by FHIRPath."""
    bundle = check_bundle(document, first="Claim")
    reader = _Reader(bundle)
    payload = reader.payload()
    try:
        request = PriorAuthorizationRequest.model_validate(payload)
    except ValidationError as exc:
        return LenientRequest(bundle, _json_ready(payload), reader.located(exc, "warning"))
    return LenientRequest(bundle, request.model_dump(mode="json"), [])


def _json_ready(value: Any) -> Any:
    """Exact decimals as the strings the canonical JSON uses for them."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value


class _Reader:
    def __init__(self, bundle: PasBundle) -> None:
        self.bundle = bundle
        self.claim = bundle.first
        self.origins: dict[tuple[str | int, ...], str] = {}

    def origin(self, location: tuple[str | int, ...]) -> str:
        """The FHIRPath a canonical field came from: the longest recorded prefix of it."""
        for length in range(len(location), 0, -1):
            found = self.origins.get(location[:length])
            if found is not None:
                return found
        return CLAIM

    def located(self, exc: ValidationError, severity: str) -> list[Issue]:
        return [
            Issue(self.origin(e["loc"]), e["msg"].removeprefix("Value error, "), "value", severity)
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]

    def note(self, at: str, *location: str | int) -> None:
        self.origins[location] = at

    def payload(self) -> dict[str, Any]:
        claim = self.claim
        patient_at, patient = self.bundle.resolve(
            required(claim, "patient", CLAIM), "Patient", f"{CLAIM}.patient"
        )
        payer_at, payer = self.bundle.resolve(
            required(claim, "insurer", CLAIM), "Organization", f"{CLAIM}.insurer"
        )
        provider_at, provider = self.bundle.resolve(
            required(claim, "provider", CLAIM), "Organization", f"{CLAIM}.provider"
        )
        self.note(f"{CLAIM}.priority", "urgency")
        priority = required_code(claim.get("priority"), v.PROCESS_PRIORITY, f"{CLAIM}.priority")
        if priority not in v.URGENCY:
            raise PasMappingError(
                "priority", [Issue(f"{CLAIM}.priority", "must be stat or normal", "code-invalid")]
            )
        payload: dict[str, Any] = {
            "urgency": v.URGENCY[priority].value,
            "patient": self.person(patient, patient_at, "patient", with_mrn=True),
            "coverage": self.coverage(patient_at),
            "payer": self.payer(payer, payer_at),
            "requesting_provider": self.provider(
                provider, provider_at, "requesting_provider", "type"
            ),
            "diagnoses": self.diagnoses(),
            "service_lines": self.items(),
        }
        reference = identifier(claim, v.EXTERNAL_REFERENCE_SYSTEM)
        if reference is not None:
            self.note(f"{CLAIM}.identifier", "external_reference")
            payload["external_reference"] = reference
        for index, member in enumerate(claim.get("careTeam") or []):
            at = f"{CLAIM}.careTeam[{index}]"
            path, resource = self.bundle.resolve(member.get("provider"), "Practitioner", at)
            payload["rendering_provider"] = self.provider(
                resource, path, "rendering_provider", "qualification"
            )
        if claim.get("facility") is not None:
            path, resource = self.bundle.resolve(claim["facility"], "Location", f"{CLAIM}.facility")
            payload["facility"] = self.facility(resource, path)
        attachments, notes = self.supporting_info()
        if attachments:
            payload["attachments"] = attachments
        if notes is not None:
            payload["notes"] = notes
        return payload

    def person(
        self, resource: dict[str, Any], at: str, *location: str, with_mrn: bool = False
    ) -> dict[str, Any]:
        names = required(resource, "name", at)
        name = names[0]
        # A null given name is a placeholder for an extension (`_given`), not a name.
        given = [part for part in name.get("given") or [] if part is not None]
        if not given:
            raise missing(f"{at}.name[0].given")
        self.note(f"{at}.name[0].given", *location, "given")
        self.note(f"{at}.name[0].family", *location, "family")
        self.note(f"{at}.birthDate", *location, "birth_date")
        self.note(f"{at}.gender", *location, "sex")
        person: dict[str, Any] = {
            "given": " ".join(given),
            "family": required(name, "family", f"{at}.name[0]"),
            "birth_date": required(resource, "birthDate", at),
            "sex": resource.get("gender", "unknown"),
        }
        addresses = resource.get("address") or []
        if addresses:
            person["address"] = self.address(addresses[0], f"{at}.address[0]", *location)
        if with_mrn:
            mrn = typed_identifier(resource, v.MEMBER_ID_TYPE, "MR")
            if mrn is not None:
                self.note(f"{at}.identifier", *location, "mrn")
                person["mrn"] = mrn
        return person

    def address(self, address: dict[str, Any], at: str, *location: str) -> dict[str, Any]:
        self.note(at, *location, "address")
        fields = {
            "line": address.get("line"),
            "city": address.get("city"),
            "state": address.get("state"),
            "postal_code": address.get("postalCode"),
        }
        return {key: value for key, value in fields.items() if value is not None}

    def coverage(self, patient_path: str) -> dict[str, Any]:
        insurance = required(self.claim, "insurance", CLAIM)
        focal = [i for i in insurance if i.get("focal")] or insurance
        index = insurance.index(focal[0])
        at, resource = self.bundle.resolve(
            focal[0].get("coverage"), "Coverage", f"{CLAIM}.insurance[{index}].coverage"
        )
        self.note(f"{at}.subscriberId", "coverage", "member_id")
        member_id = resource.get("subscriberId") or typed_identifier(
            resource, v.MEMBER_ID_TYPE, "MB"
        )
        if member_id is None:
            raise missing(f"{at}.subscriberId", "the member id is required")
        coverage: dict[str, Any] = {"member_id": member_id}
        relationship = coded(resource.get("relationship"), v.SUBSCRIBER_RELATIONSHIP, at)
        self.note(f"{at}.relationship", "coverage", "relationship")
        known = v.RELATIONSHIP.get(relationship or "self", Relationship.other)
        coverage["relationship"] = known.value
        for index, entry in enumerate(resource.get("class") or []):
            kind = coded(entry.get("type"), v.COVERAGE_CLASS, f"{at}.class[{index}].type")
            field = {"group": "group_number", "plan": "plan_name"}.get(kind or "")
            if field is not None:
                self.note(f"{at}.class[{index}].value", "coverage", field)
                coverage[field] = entry["value"]
        if resource.get("subscriber") is None:
            return coverage
        subscriber_at, subscriber = self.bundle.resolve(
            resource["subscriber"], "Patient", f"{at}.subscriber"
        )
        if subscriber_at != patient_path:
            subscriber_fields = self.person(subscriber, subscriber_at, "coverage", "subscriber")
            coverage["subscriber"] = subscriber_fields
        return coverage

    def payer(self, resource: dict[str, Any], at: str) -> dict[str, Any]:
        payer_id = identifier(resource, v.PAYER_ID)
        if payer_id is None:
            raise missing(f"{at}.identifier", "the payer needs a payer-id identifier")
        self.note(f"{at}.identifier", "payer", "id")
        self.note(f"{at}.name", "payer", "name")
        return {"id": payer_id, "name": required(resource, "name", at)}

    def provider(
        self, resource: dict[str, Any], at: str, field: str, taxonomy_in: str
    ) -> dict[str, Any]:
        npi = identifier(resource, v.NPI)
        if npi is None:
            raise missing(f"{at}.identifier", "the provider needs an NPI identifier")
        self.note(f"{at}.identifier", field, "npi")
        if resource["resourceType"] == "Practitioner":
            names = required(resource, "name", at)
            name = (
                names[0].get("text")
                or " ".join(
                    part
                    for part in [*(names[0].get("given") or []), names[0].get("family")]
                    if part is not None
                ).strip()
            )
            self.note(f"{at}.name[0]", field, "name")
        else:
            name = required(resource, "name", at)
            self.note(f"{at}.name", field, "name")
        provider: dict[str, Any] = {"npi": npi, "name": name}
        concepts = resource.get(taxonomy_in) or []
        for index, element in enumerate(concepts):
            concept = element.get("code") if taxonomy_in == "qualification" else element
            code = coded(concept, v.NUCC_TAXONOMY, f"{at}.{taxonomy_in}[{index}]")
            if code is not None:
                self.note(f"{at}.{taxonomy_in}[{index}]", field, "taxonomy")
                provider["taxonomy"] = code
        return provider

    def facility(self, resource: dict[str, Any], at: str) -> dict[str, Any]:
        npi = identifier(resource, v.NPI)
        if npi is None:
            raise missing(f"{at}.identifier", "the facility needs an NPI identifier")
        self.note(f"{at}.identifier", "facility", "npi")
        self.note(f"{at}.name", "facility", "name")
        facility: dict[str, Any] = {"npi": npi, "name": required(resource, "name", at)}
        for index, concept in enumerate(resource.get("type") or []):
            code = coded(concept, v.PLACE_OF_SERVICE, f"{at}.type[{index}]")
            if code is not None:
                self.note(f"{at}.type[{index}]", "facility", "place_of_service")
                facility["place_of_service"] = code
        if resource.get("address") is not None:
            facility["address"] = self.address(resource["address"], f"{at}.address", "facility")
        return facility

    def diagnoses(self) -> list[dict[str, Any]]:
        entries = required(self.claim, "diagnosis", CLAIM)
        ordered = sorted(enumerate(entries), key=lambda pair: pair[1].get("sequence", 0))
        diagnoses: list[dict[str, Any]] = []
        for position, (index, entry) in enumerate(ordered):
            at = f"{CLAIM}.diagnosis[{index}]"
            concept = entry.get("diagnosisCodeableConcept")
            if concept is None:
                path, condition = self.bundle.resolve(
                    entry.get("diagnosisReference"), "Condition", f"{at}.diagnosisReference"
                )
                at, concept = f"{path}.code", required(condition, "code", path)
            else:
                at = f"{at}.diagnosisCodeableConcept"
            code = required_code(concept, v.ICD10CM, at)
            self.note(at, "diagnoses", position)
            diagnosis: dict[str, Any] = {"code": code}
            display = next(
                (c.get("display") for c in concept["coding"] if c.get("system") == v.ICD10CM), None
            )
            if display is not None:
                diagnosis["description"] = display
            diagnoses.append(diagnosis)
        return diagnoses

    def items(self) -> list[dict[str, Any]]:
        return [
            self.item(index, entry)
            for index, entry in enumerate(required(self.claim, "item", CLAIM))
        ]

    def item(self, index: int, item: dict[str, Any]) -> dict[str, Any]:
        at = f"{CLAIM}.item[{index}]"
        self.note(at, "service_lines", index)
        product = required(item, "productOrService", at)
        system = next(
            (s for s in v.PROCEDURE_SYSTEM.values() if coded(product, s, at) is not None), None
        )
        if system is None:
            raise missing(f"{at}.productOrService", "needs a CPT or HCPCS coding")
        self.note(f"{at}.productOrService", "service_lines", index, "procedure_code")
        line: dict[str, Any] = {
            "sequence": item["sequence"],
            "procedure_code": coded(product, system, f"{at}.productOrService"),
        }
        if product.get("text") is not None:
            line["description"] = product["text"]
        modifiers = [coded(m, system, f"{at}.modifier") for m in item.get("modifier") or []]
        if modifiers:
            self.note(f"{at}.modifier", "service_lines", index, "modifiers")
            line["modifiers"] = [m for m in modifiers if m is not None]
        line["service_period"] = self.serviced(item, at, index)
        place = coded(item.get("locationCodeableConcept"), v.PLACE_OF_SERVICE, at)
        if place is not None:
            self.note(f"{at}.locationCodeableConcept", "service_lines", index, "place_of_service")
            line["place_of_service"] = place
        quantity = item.get("quantity")
        if quantity is not None:
            self.note(f"{at}.quantity", "service_lines", index, "units")
            self.note(f"{at}.quantity.code", "service_lines", index, "unit_type")
            line["units"] = decimal(quantity.get("value"))
            if quantity.get("system") == v.X12_UNIT and quantity.get("code") is not None:
                line["unit_type"] = quantity["code"]
        drug = self.drug(item, at, index)
        if drug is not None:
            line["drug"] = drug
        return line

    def serviced(self, item: dict[str, Any], at: str, index: int) -> dict[str, Any]:
        if item.get("servicedDate") is not None:
            self.note(f"{at}.servicedDate", "service_lines", index, "service_period")
            return {"start": item["servicedDate"], "end": item["servicedDate"]}
        period = item.get("servicedPeriod")
        if period is None or period.get("start") is None:
            raise missing(f"{at}.servicedPeriod", "a service date or period start is required")
        self.note(f"{at}.servicedPeriod", "service_lines", index, "service_period")
        return {key: period[key] for key in ("start", "end") if period.get(key) is not None}

    def drug(self, item: dict[str, Any], at: str, index: int) -> dict[str, Any] | None:
        for position, extension in enumerate(item.get("extension") or []):
            if extension.get("url") != v.REQUESTED_SERVICE_URL:
                continue
            where = f"{at}.extension[{position}].valueReference"
            path, resource = self.bundle.resolve(
                extension.get("valueReference"), _REQUESTED_KINDS, where
            )
            if resource["resourceType"] != "MedicationRequest":
                continue
            concept = resource.get("medicationCodeableConcept")
            self.note(f"{path}.medicationCodeableConcept", "service_lines", index, "drug", "ndc")
            ndc = required_code(concept, v.NDC, f"{path}.medicationCodeableConcept")
            quantity = (resource.get("dispenseRequest") or {}).get("quantity")
            if quantity is None:
                raise missing(f"{path}.dispenseRequest.quantity")
            self.note(f"{path}.dispenseRequest.quantity", "service_lines", index, "drug")
            drug: dict[str, Any] = {"ndc": ndc, "quantity": decimal(quantity.get("value"))}
            if quantity.get("code") is not None:
                drug["unit"] = quantity["code"]
            return drug
        return None

    def supporting_info(self) -> tuple[list[dict[str, Any]], str | None]:
        attachments: list[dict[str, Any]] = []
        notes: str | None = None
        for index, info in enumerate(self.claim.get("supportingInfo") or []):
            at = f"{CLAIM}.supportingInfo[{index}]"
            category = coded(info.get("category"), v.SUPPORTING_INFO_TYPE, f"{at}.category")
            if category == "freeFormMessage" and info.get("valueString") is not None:
                self.note(f"{at}.valueString", "notes")
                notes = info["valueString"]
            elif category == "additionalInformation" and "valueReference" in info:
                path, document = self.bundle.resolve(
                    info["valueReference"], "DocumentReference", f"{at}.valueReference"
                )
                attachments.append(self.attachment(document, path, len(attachments)))
        return attachments, notes

    def attachment(self, document: dict[str, Any], at: str, position: int) -> dict[str, Any]:
        content = required(document, "content", at)[0]["attachment"]
        where = f"{at}.content[0].attachment"
        self.note(at, "attachments", position)
        self.note(f"{at}.type", "attachments", position, "kind")
        self.note(f"{where}.contentType", "attachments", position, "media_type")
        self.note(f"{where}.title", "attachments", position, "title")
        self.note(f"{where}.size", "attachments", position, "size")
        self.note(f"{at}.identifier", "attachments", position, "sha256")
        sha256 = identifier(document, v.SHA256_SYSTEM)
        if sha256 is None:
            raise missing(f"{at}.identifier", "the document needs its sha256 identifier")
        attachment: dict[str, Any] = {
            "kind": required_code(document.get("type"), v.X12_REPORT_TYPE, f"{at}.type"),
            "media_type": required(content, "contentType", where),
            "title": required(content, "title", where),
            "size": required(content, "size", where),
            "sha256": sha256,
        }
        message_id = identifier(document, v.MESSAGE_STORE_SYSTEM)
        if message_id is not None:
            attachment["message_id"] = message_id
        return attachment
