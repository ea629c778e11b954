"""X12 code values and how they line up with casegate's canonical vocabulary.

One table each way, shared by the builders and the readers, so a request built and read back
means what it meant.
"""

from __future__ import annotations

from decimal import Decimal

from canonical.cases import Urgency
from canonical.clinical import UnitType
from canonical.decisions import DecisionOutcome, ReviewAction
from canonical.parties import AdministrativeSex, Relationship

DEFAULT_ORIGINATOR = "9CASEGATE0"  # TRN03: "9" + a user-assigned id, 10 characters

SEX: dict[AdministrativeSex, str] = {
    AdministrativeSex.female: "F",
    AdministrativeSex.male: "M",
    AdministrativeSex.other: "U",
    AdministrativeSex.unknown: "U",
}
SEX_FROM_X12 = {"F": AdministrativeSex.female, "M": AdministrativeSex.male}

# INS02 of the dependent: the patient's relationship to the subscriber.
RELATIONSHIP: dict[Relationship, str] = {
    Relationship.spouse: "01",
    Relationship.child: "19",
    Relationship.other: "G8",
}
RELATIONSHIP_FROM_X12 = {"01": Relationship.spouse, "19": Relationship.child}

# UM06 level of service.
LEVEL_OF_SERVICE: dict[Urgency, str] = {Urgency.standard: "E", Urgency.expedited: "U"}
EXPEDITED_LEVELS = frozenset({"U", "03"})

# SV103 for professional services; days travel in HSD instead (SV1 has no day unit).
SV1_UNITS = {UnitType.units: "UN", UnitType.minutes: "MJ"}
UNIT_FROM_X12 = {"UN": UnitType.units, "MJ": UnitType.minutes, "DA": UnitType.days}

# Place of service codes whose review is an admission review (UM01 AR) rather than HS.
INPATIENT_PLACES = frozenset({"21", "51", "61"})

# HCR01 review action -> the outcome of a decision where it is the only action.
OUTCOME: dict[ReviewAction, DecisionOutcome] = {
    ReviewAction.certified: DecisionOutcome.approved,
    ReviewAction.certified_partial: DecisionOutcome.partially_approved,
    ReviewAction.not_certified: DecisionOutcome.denied,
    ReviewAction.pended: DecisionOutcome.pended,
    ReviewAction.modified: DecisionOutcome.partially_approved,
    ReviewAction.cancelled: DecisionOutcome.cancelled,
    ReviewAction.contact_payer: DecisionOutcome.more_info_requested,
    ReviewAction.no_action_required: DecisionOutcome.approved,
}
ACTION_FOR_OUTCOME: dict[DecisionOutcome, ReviewAction] = {
    DecisionOutcome.approved: ReviewAction.certified,
    DecisionOutcome.partially_approved: ReviewAction.certified_partial,
    DecisionOutcome.denied: ReviewAction.not_certified,
    DecisionOutcome.pended: ReviewAction.pended,
    DecisionOutcome.more_info_requested: ReviewAction.contact_payer,
    DecisionOutcome.cancelled: ReviewAction.cancelled,
}
# AAA04 follow-up action -> what a rejected request becomes: fix and resend, give up, or wait.
FOLLOW_UP: dict[str, DecisionOutcome] = {
    "C": DecisionOutcome.more_info_requested,
    "R": DecisionOutcome.more_info_requested,
    "N": DecisionOutcome.denied,
    "W": DecisionOutcome.pended,
    "X": DecisionOutcome.pended,
    "Y": DecisionOutcome.pended,
}


def service_type(procedure_code: str) -> str:
    """UM03 from the CPT section of the first procedure: surgery 2, radiology 4, lab 5, else 1.

    Payers route reviews by service type; the CPT section is the one signal every request has.
    """
    if procedure_code[:4].isdigit() and procedure_code[4:].isdigit():
        number = int(procedure_code)
        if 10004 <= number <= 69990:
            return "2"
        if 70010 <= number <= 79999:
            return "4"
        if 80047 <= number <= 89398:
            return "5"
    return "1"


def decimal_text(value: Decimal) -> str:
    """A quantity as X12 writes it: no exponent, no trailing zeros ("10", "1.5")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def optional_decimal_text(value: Decimal | None) -> str:
    """`decimal_text`, or an empty element when the value is not known."""
    return "" if value is None else decimal_text(value)
