"""The code systems, extension URLs and code tables a PAS bundle uses, in one place.

The request builder, both readers and the sandbox that plays a PAS payer share these tables, so
what one side writes the other side reads.
"""

from __future__ import annotations

from canonical.cases import Urgency
from canonical.decisions import DecisionOutcome, ReviewAction
from canonical.parties import Relationship

PAS = "http://hl7.org/fhir/us/davinci-pas"
REQUESTED_SERVICE_URL = f"{PAS}/StructureDefinition/extension-requestedService"
REVIEW_ACTION_URL = f"{PAS}/StructureDefinition/extension-reviewAction"
SUPPORTING_INFO_TYPE = f"{PAS}/CodeSystem/PASSupportingInfoType"

CASE_ID_SYSTEM = "urn:casegate:case-id"
EXTERNAL_REFERENCE_SYSTEM = "urn:casegate:external-reference"
MESSAGE_STORE_SYSTEM = "urn:casegate:message-store"
SHA256_SYSTEM = "urn:casegate:sha256"

NPI = "http://hl7.org/fhir/sid/us-npi"
PAYER_ID = "http://hl7.org/fhir/sid/payer-id"
MEMBER_ID_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "urn:oid:2.16.840.1.113883.6.285"
NDC = "http://hl7.org/fhir/sid/ndc"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
PLACE_OF_SERVICE = (
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
)
X12_REVIEW_ACTION = "https://codesystem.x12.org/005010/306"
X12_REVIEW_REASON = "https://codesystem.x12.org/005010/886"
X12_REPORT_TYPE = "https://codesystem.x12.org/005010/755"
X12_UNIT = "https://codesystem.x12.org/005010/355"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
DIAGNOSIS_TYPE = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
CARE_TEAM_ROLE = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"

PROCEDURE_SYSTEM = {"CPT": CPT, "HCPCS": HCPCS}

PRIORITY: dict[Urgency, str] = {Urgency.expedited: "stat", Urgency.standard: "normal"}
URGENCY = {code: urgency for urgency, code in PRIORITY.items()}

RELATIONSHIP_CODE: dict[Relationship, str] = {
    Relationship.self_: "self",
    Relationship.spouse: "spouse",
    Relationship.child: "child",
    Relationship.other: "other",
}
RELATIONSHIP = {code: relationship for relationship, code in RELATIONSHIP_CODE.items()}

REVIEW_ACTIONS = {action.value: action for action in ReviewAction}

_APPROVING = frozenset({ReviewAction.certified, ReviewAction.no_action_required})


def outcome_of(actions: list[ReviewAction]) -> DecisionOutcome:
    """The case outcome from its items' review actions, the only place PAS states it.

    A pend anywhere keeps the case open, and a request to contact the payer needs a person,
    before any per-item approval or denial counts; cancelled items are left out of the rest.
    """
    if not actions:
        raise ValueError("a decision needs at least one item review action")
    live = [action for action in actions if action is not ReviewAction.cancelled]
    if not live:
        return DecisionOutcome.cancelled
    if ReviewAction.pended in live:
        return DecisionOutcome.pended
    if ReviewAction.contact_payer in live:
        return DecisionOutcome.more_info_requested
    if all(action in _APPROVING for action in live):
        return DecisionOutcome.approved
    if all(action is ReviewAction.not_certified for action in live):
        return DecisionOutcome.denied
    return DecisionOutcome.partially_approved
