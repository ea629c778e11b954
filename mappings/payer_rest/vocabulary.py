"""The payer REST API's code words and how they line up with casegate's vocabulary.

Kept in one table each way so the request builder, the response parser and the sandbox that
plays the payer cannot drift apart.
"""

from __future__ import annotations

from decimal import Decimal

from canonical.cases import Urgency
from canonical.decisions import DecisionOutcome, ReviewAction
from canonical.parties import AdministrativeSex, Relationship

WIRE_FORMAT = "payer_rest.json/v1"

URGENCY: dict[Urgency, str] = {Urgency.standard: "STANDARD", Urgency.expedited: "EXPEDITED"}

GENDER: dict[AdministrativeSex, str] = {
    AdministrativeSex.female: "F",
    AdministrativeSex.male: "M",
    AdministrativeSex.other: "O",
    AdministrativeSex.unknown: "U",
}

RELATIONSHIP: dict[Relationship, str] = {
    Relationship.self_: "SELF",
    Relationship.spouse: "SPOUSE",
    Relationship.child: "CHILD",
    Relationship.other: "OTHER",
}

DECISION_STATUS: dict[str, DecisionOutcome] = {
    "APPROVED": DecisionOutcome.approved,
    "PARTIALLY_APPROVED": DecisionOutcome.partially_approved,
    "DENIED": DecisionOutcome.denied,
    "PENDED": DecisionOutcome.pended,
    "MORE_INFO_REQUIRED": DecisionOutcome.more_info_requested,
    "CANCELLED": DecisionOutcome.cancelled,
}
DECISION_STATUS_WORD = {outcome: word for word, outcome in DECISION_STATUS.items()}

SERVICE_STATUS: dict[str, ReviewAction] = {
    "APPROVED": ReviewAction.certified,
    "PARTIALLY_APPROVED": ReviewAction.certified_partial,
    "DENIED": ReviewAction.not_certified,
    "PENDED": ReviewAction.pended,
    "MODIFIED": ReviewAction.modified,
    "CANCELLED": ReviewAction.cancelled,
    "CONTACT_PAYER": ReviewAction.contact_payer,
    "NO_ACTION_REQUIRED": ReviewAction.no_action_required,
}
SERVICE_STATUS_WORD = {action: word for word, action in SERVICE_STATUS.items()}


def decimal_text(value: Decimal) -> str:
    """Quantities as plain decimal strings: 10 stays "10" (not 1E+1), 1.50 becomes "1.5"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
