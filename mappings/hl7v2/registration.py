"""ADT^A04/A08 -> a registration event: who the patient is and which coverages they hold now.

A registration does not open a case; an insurance change on it updates the coverage of the
patient's open cases, so every IN1 is read (in priority order), not only the primary one.
"""

from __future__ import annotations

from mappings.hl7v2.codec import Message
from mappings.hl7v2.errors import Location
from mappings.hl7v2.events import InsuredCoverage, RegistrationEvent, RegistrationKind
from mappings.hl7v2.patients import insurances, read_insured, read_patient
from mappings.hl7v2.reading import Findings, placed

KINDS = {"A04": RegistrationKind.registered, "A08": RegistrationKind.updated}


def map_registration(message: Message, event: str) -> RegistrationEvent:
    segments = placed(message)
    findings = Findings()
    pid = next(s for s in segments if s.id == "PID")
    patient = read_patient(pid, findings)
    coverages: list[InsuredCoverage] = []
    for position, insurance in enumerate(insurances(segments), start=1):
        insured = read_insured(insurance, patient, position, findings)
        if insured is not None:
            coverages.append(insured)
    findings.check()
    pv1 = next((s for s in segments if s.id == "PV1"), None)
    data = {
        "kind": KINDS[event],
        "patient": patient,
        "visit_number": (pv1.value(19, 1) or None) if pv1 else None,
        "coverages": sorted(coverages, key=lambda c: c.priority),
    }
    sources = {"visit_number": Location("PV1", field=19), "coverages": Location("IN1")}
    return findings.build_or_raise(RegistrationEvent, data, sources, pid.at())
