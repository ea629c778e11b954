"""A synthetic prior-authorization backlog: realistic codes, no real people.

Names are drawn from a small list of obviously fictitious ones; NPIs are generated with valid
check digits so they pass validation without belonging to anyone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from canonical.codes import npi_is_valid

# (CPT/HCPCS, a diagnosis that supports it, place of service)
SERVICES: list[tuple[str, str, str]] = [
    ("27447", "M17.11", "22"),  # total knee arthroplasty, primary OA right knee
    ("27130", "M16.11", "22"),  # total hip arthroplasty
    ("29881", "M23.221", "24"),  # knee arthroscopy, meniscus tear
    ("70553", "G43.909", "22"),  # MRI brain with and without contrast, migraine
    ("72148", "M54.50", "11"),  # MRI lumbar spine, low back pain
    ("73721", "M25.561", "11"),  # MRI knee joint
    ("97110", "M62.81", "11"),  # therapeutic exercise
    ("J1745", "K50.90", "19"),  # infliximab, Crohn's disease
    ("J9035", "C18.9", "19"),  # bevacizumab, colon cancer
    ("E0601", "G47.33", "12"),  # CPAP device, obstructive sleep apnea
    ("43644", "E66.01", "22"),  # gastric bypass, morbid obesity
    ("0042T", "I63.9", "22"),  # CT perfusion, cerebral infarction
]
GIVEN = ["Avery", "Jordan", "Riley", "Casey", "Morgan", "Quinn", "Rowan", "Sage", "Emery", "Reese"]
FAMILY = ["Testperson", "Sampleton", "Demoson", "Fictive", "Placeholder", "Mockwell", "Synthia"]
PAYERS = [
    ("ACMEHP", "Acme Health Plan"),
    ("BLUEMESA", "Blue Mesa Health"),
    ("SUNCOAST", "Suncoast Care"),
]


def _npi(rng: random.Random) -> str:
    while True:
        nine = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        for digit in "0123456789":
            if npi_is_valid(nine + digit):
                return nine + digit


def synthetic_case(rng: random.Random, today: date) -> dict[str, Any]:
    code, diagnosis, place = rng.choice(SERVICES)
    payer_id, payer_name = rng.choice(PAYERS)
    start = today + timedelta(days=rng.randint(3, 45))
    birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 25000))
    return {
        "urgency": "expedited" if rng.random() < 0.15 else "standard",
        "patient": {
            "given": rng.choice(GIVEN),
            "family": rng.choice(FAMILY),
            "birth_date": birth.isoformat(),
            "sex": rng.choice(["female", "male", "unknown"]),
        },
        "coverage": {"member_id": f"M{rng.randint(10**8, 10**9 - 1)}", "relationship": "self"},
        "payer": {"id": payer_id, "name": payer_name},
        "requesting_provider": {"npi": _npi(rng), "name": "Demo Ordering Clinician"},
        "facility": {"npi": _npi(rng), "name": "Demo General Hospital", "place_of_service": place},
        "diagnoses": [{"code": diagnosis}],
        "service_lines": [
            {
                "sequence": 1,
                "procedure_code": code,
                "units": 4 if code.startswith("J") else 1,
                "service_period": {"start": start.isoformat(), "end": start.isoformat()},
                "place_of_service": place,
            }
        ],
    }


def backlog(count: int, seed: int = 2026, today: date | None = None) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    today = today or date.today()
    return [synthetic_case(rng, today) for _ in range(count)]
