"""HL7 v2 code tables and how their codes line up with casegate's vocabulary.

One table each, so the inbound mappings and the outbound messages cannot drift apart. Codes a
table does not list are reported as unknown (ERR code 103), never mapped to a default.
"""

from __future__ import annotations

from enum import StrEnum

from canonical.decisions import DecisionOutcome, ReviewAction
from canonical.parties import AdministrativeSex, Relationship


class OrderControl(StrEnum):
    new = "new"
    change = "change"
    cancel = "cancel"


# Table 0119: what an EHR, as the placer, sends about its own order.
ORDER_CONTROL = {
    "NW": OrderControl.new,
    "XO": OrderControl.change,
    "XX": OrderControl.change,
    "CA": OrderControl.cancel,
    "DC": OrderControl.cancel,
    "OC": OrderControl.cancel,
    "OD": OrderControl.cancel,
}

# Table 0001.
SEX = {
    "F": AdministrativeSex.female,
    "M": AdministrativeSex.male,
    "O": AdministrativeSex.other,
    "A": AdministrativeSex.other,
    "U": AdministrativeSex.unknown,
    "N": AdministrativeSex.unknown,
    "": AdministrativeSex.unknown,
}

SEX_CODE = {
    AdministrativeSex.female: "F",
    AdministrativeSex.male: "M",
    AdministrativeSex.other: "O",
    AdministrativeSex.unknown: "U",
}

# IN1-17 is the insured's relationship to the patient (table 0063): when the insured is the
# patient's parent, the patient is the subscriber's child. Senders on v2.3 often use the X12
# individual relationship codes instead (18 self, 01 spouse, 19 child), which read the same way.
RELATIONSHIP = {
    "SEL": Relationship.self_,
    "18": Relationship.self_,
    "SPO": Relationship.spouse,
    "DOM": Relationship.spouse,
    "01": Relationship.spouse,
    "PAR": Relationship.child,
    "MTH": Relationship.child,
    "FTH": Relationship.child,
    "19": Relationship.child,
    **{
        code: Relationship.other
        for code in (
            "ASC", "BRO", "CGV", "CHD", "DEP", "EME", "EMR", "EXF", "FCH", "FND", "GCH", "GRD",
            "GRP", "MGR", "NCH", "NON", "OAD", "OTH", "OWN", "SCH", "SIB", "SIS", "TRA", "UNK",
            "WRD", "G8",
        )
    },
}  # fmt: skip

# PV1-2 patient class (table 0004) -> CMS place of service, where the class settles it.
PLACE_OF_SERVICE = {"I": "21", "O": "22", "E": "23"}

# Table 0396 names for CPT and HCPCS Level II, and the variants EHRs send.
PROCEDURE_SYSTEMS = frozenset({"C4", "C5", "CPT", "CPT4", "CPT-4", "HPC", "HCPCS"})
ICD10CM_SYSTEMS = frozenset({"I10", "I10C", "ICD10", "ICD10CM", "ICD-10-CM"})
ICD9_SYSTEMS = frozenset({"I9", "I9C", "ICD9", "ICD9CM", "ICD-9-CM"})
NDC_SYSTEMS = frozenset({"NDC"})

# Order priority (TQ1-9, TQ-6, OBR-5; table 0027): stat and as-soon-as-possible are expedited.
EXPEDITED_PRIORITIES = frozenset({"S", "A", "STAT", "ASAP"})

# Dispense and give units (UCUM and the usual local spellings) -> X12 unit qualifiers.
DRUG_UNITS = {
    "ML": "ML",
    "MG": "ME",
    "G": "GR",
    "GM": "GR",
    "IU": "F2",
    "[IU]": "F2",
    **{unit: "UN" for unit in ("UN", "U", "UNIT", "UNITS", "EA", "EACH", "{EACH}", "TAB",
                               "{TBL}", "CAP", "{CAP}", "VIAL", "{VIAL}")},
}  # fmt: skip

# TXA-2 document type (table 0270) -> X12 PWK01 report type, and a title for reviewers.
DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    "AR": ("A4", "Autopsy report"),
    "CD": ("DG", "Cardiodiagnostics report"),
    "CN": ("PY", "Consultation"),
    "DI": ("RR", "Diagnostic imaging report"),
    "DS": ("DS", "Discharge summary"),
    "ED": ("M1", "Emergency department report"),
    "HP": ("P5", "History and physical examination"),
    "OP": ("OB", "Operative report"),
    "PC": ("PY", "Psychiatric consultation"),
    "PH": ("P5", "Psychiatric history and physical"),
    "PN": ("OB", "Procedure note"),
    "PR": ("09", "Progress note"),
    "SP": ("P4", "Surgical pathology"),
    "TS": ("M1", "Transfer summary"),
}

# ED data subtypes (OBX-5.3) -> media types.
MEDIA_TYPES = {
    "PDF": "application/pdf",
    "RTF": "application/rtf",
    "HTML": "text/html",
    "XML": "application/xml",
    "TEXT": "text/plain",
    "PLAIN": "text/plain",
    "JPEG": "image/jpeg",
    "JPG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "DICOM": "application/dicom",
}

# A decision's outcome as the X12 HCR01 action code (data element 306, table 0396 X12DE306).
ACTION_SYSTEM = "X12DE306"
ACTION_TEXT = {
    ReviewAction.certified: "Certified in total",
    ReviewAction.certified_partial: "Certified - partial",
    ReviewAction.not_certified: "Not certified",
    ReviewAction.pended: "Pended",
    ReviewAction.modified: "Modified",
    ReviewAction.cancelled: "Cancelled",
    ReviewAction.contact_payer: "Contact payer",
    ReviewAction.no_action_required: "No action required",
}
OUTCOME_ACTION = {
    DecisionOutcome.approved: ReviewAction.certified,
    DecisionOutcome.partially_approved: ReviewAction.certified_partial,
    DecisionOutcome.denied: ReviewAction.not_certified,
    DecisionOutcome.pended: ReviewAction.pended,
    DecisionOutcome.more_info_requested: ReviewAction.pended,
    DecisionOutcome.cancelled: ReviewAction.cancelled,
}
# OBR-25 result status (table 0123): a pend is preliminary, a cancellation has no result.
RESULT_STATUS = {
    DecisionOutcome.approved: "F",
    DecisionOutcome.partially_approved: "F",
    DecisionOutcome.denied: "F",
    DecisionOutcome.pended: "P",
    DecisionOutcome.more_info_requested: "P",
    DecisionOutcome.cancelled: "X",
}
