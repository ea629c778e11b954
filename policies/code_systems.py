"""The code systems a pack may name, and how their codes are ordered for ranges.

Payers publish prior-authorization lists as single codes and ranges ("70540-70553"). A range
is only meaningful within one family of codes: numeric CPT, CPT Category II (...F), Category
III (...T), PLA (...U), and each HCPCS Level II letter. Every code maps to an integer key
whose family is its band, so ranges become integer intervals that cannot cross families.
"""

from __future__ import annotations

import re

from canonical.codes import normalize_ndc

BAND = 100_000
_SUFFIX_BANDS = {"F": 1, "T": 2, "U": 3}
_FIRST_LETTER_BAND = 4
KEY_LIMIT = (_FIRST_LETTER_BAND + 26) * BAND
NO_CODE = -1

_CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")
_HCPCS = re.compile(r"^[A-V][0-9]{4}$")
_PATTERNS = {"cpt": _CPT, "hcpcs": _HCPCS}
CODE_SYSTEMS = tuple(_PATTERNS)
_PRODUCT_FORMS = {(4, 4), (5, 3), (5, 4)}
_SHAPES = {"cpt": "4 digits then a digit, F, T or U", "hcpcs": "a letter A-V then 4 digits"}

# X12 PWK01 report type codes, the vocabulary PAS attachments and 275s share.
PWK01_REPORT_TYPES: dict[str, str] = {
    "03": "Report justifying treatment beyond utilization guidelines",
    "04": "Drugs administered",
    "05": "Treatment diagnosis",
    "06": "Initial assessment",
    "07": "Functional goals",
    "08": "Plan of treatment",
    "09": "Progress report",
    "10": "Continued treatment",
    "11": "Chemical analysis",
    "13": "Certified condition report",
    "15": "Justification for admission",
    "21": "Recovery plan",
    "A3": "Allergies/sensitivities document",
    "A4": "Autopsy report",
    "AM": "Ambulance certification",
    "AS": "Admission summary",
    "B2": "Prescription",
    "B3": "Physician order",
    "B4": "Referral form",
    "BR": "Benchmark testing results",
    "BS": "Baseline",
    "BT": "Blanket condition results",
    "CB": "Chiropractic justification",
    "CK": "Consent form(s)",
    "CT": "Certification",
    "D2": "Drug profile document",
    "DA": "Dental models",
    "DB": "Durable medical equipment prescription",
    "DG": "Diagnostic report",
    "DJ": "Discharge monitoring report",
    "DS": "Discharge summary",
    "EB": "Explanation of benefits",
    "HC": "Health certificate",
    "HR": "Health clinic records",
    "I5": "Immunization record",
    "IR": "State school immunization records",
    "LA": "Laboratory results",
    "M1": "Medical record attachment",
    "MT": "Models",
    "NN": "Nursing notes",
    "OB": "Operative note",
    "OC": "Oxygen content averaging report",
    "OD": "Orders and treatments document",
    "OE": "Objective physical examination",
    "OX": "Oxygen therapy certification",
    "OZ": "Support data for claim",
    "P4": "Pathology report",
    "P5": "Patient medical history document",
    "PE": "Parenteral or enteral certification",
    "PN": "Physical therapy notes",
    "PO": "Prosthetics or orthotic certification",
    "PQ": "Paramedical results",
    "PY": "Physician's report",
    "PZ": "Physical therapy certification",
    "RB": "Radiology films",
    "RR": "Radiology reports",
    "RT": "Report of tests and analysis report",
    "RX": "Renewable oxygen content averaging report",
    "SG": "Symptoms document",
    "V5": "Death notification",
    "XP": "Photographs",
}


def code_key(code: str) -> int:
    """The ordering key of a CPT or HCPCS code already validated by `canonical`."""
    if code[0].isalpha():
        return (_FIRST_LETTER_BAND + ord(code[0]) - ord("A")) * BAND + int(code[1:])
    if code[-1].isdigit():
        return int(code)
    return _SUFFIX_BANDS[code[-1]] * BAND + int(code[:4])


def code_of_key(key: int) -> str:
    band, number = divmod(key, BAND)
    if band == 0:
        return f"{number:05d}"
    if band < _FIRST_LETTER_BAND:
        suffix = next(s for s, b in _SUFFIX_BANDS.items() if b == band)
        return f"{number:04d}{suffix}"
    return f"{chr(ord('A') + band - _FIRST_LETTER_BAND)}{number:04d}"


def _single(system: str, text: str) -> int:
    if not _PATTERNS[system].match(text):
        raise ValueError(f"'{text}' is not a {system.upper()} code ({_SHAPES[system]})")
    return code_key(text)


def code_entry_keys(system: str, entry: object) -> tuple[int, int]:
    """The half-open key interval of one entry of a known system: '27447' or '70540-70553'.

    Numbers are accepted only with five digits: YAML reads `00100` as octal 64, so a code with
    a leading zero must be quoted, and the error says so.
    """
    if isinstance(entry, int) and not isinstance(entry, bool) and 10_000 <= entry <= 99_999:
        entry = str(entry)
    if not isinstance(entry, str):
        raise ValueError(f"{system} code {entry!r} must be written as a quoted string")
    text = entry.strip().upper()
    low_text, dash, high_text = text.partition("-")
    low = _single(system, low_text.strip())
    if not dash:
        return low, low + 1
    high = _single(system, high_text.strip())
    if low // BAND != high // BAND:
        raise ValueError(f"range '{text}' mixes code families; split it")
    if high < low:
        raise ValueError(f"range '{text}' ends before it starts")
    return low, high + 1


def describe_keys(low: int, high: int) -> str:
    """A key interval written back as a code or a range."""
    first, last = code_of_key(low), code_of_key(high - 1)
    return first if first == last else f"{first}-{last}"


def ndc_product(entry: object) -> str:
    """An NDC list entry as 11 digits (a package) or 9 digits (labeler and product: any package).

    A drug class usually means a product whatever its package size, hence the 9-digit form.
    """
    if not isinstance(entry, str):
        raise ValueError(f"NDC {entry!r} must be written as a quoted string")
    parts = entry.strip().split("-")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        labeler, product = parts
        if (len(labeler), len(product)) in _PRODUCT_FORMS:
            return labeler.zfill(5) + product.zfill(4)
        raise ValueError(f"'{entry}' is not an NDC product code (labeler-product: 4-4, 5-3, 5-4)")
    return normalize_ndc(entry)
