"""SIU^S12/S13/S14/S15 -> a scheduling event: a procedure booked, moved, changed or cancelled.

The schedule does not open a case; it tells the case its order belongs to (SCH-26, the placer
order number) when the service will happen, which a prior authorization's dates must cover.
"""

from __future__ import annotations

from datetime import date, datetime

from canonical.codes import procedure_code_system
from mappings.hl7v2.codec import Message
from mappings.hl7v2.errors import Location
from mappings.hl7v2.events import (
    ScheduledLocation,
    ScheduledService,
    SchedulingAction,
    SchedulingEvent,
)
from mappings.hl7v2.patients import mrn
from mappings.hl7v2.reading import Findings, Placed, codings, placed, read_dtm, read_number
from mappings.hl7v2.vocabulary import PROCEDURE_SYSTEMS

ACTIONS = {
    "S12": SchedulingAction.booked,
    "S13": SchedulingAction.rescheduled,
    "S14": SchedulingAction.modified,
    "S15": SchedulingAction.cancelled,
}
_MINUTES_PER = {"MIN": 1, "MINUTES": 1, "H": 60, "HR": 60, "HOUR": 60, "HOURS": 60}

When = tuple[date, datetime | None]


def map_schedule(message: Message, event: str) -> SchedulingEvent:
    action = ACTIONS[event]
    segments = placed(message)
    findings = Findings()
    sch = next(s for s in segments if s.id == "SCH")
    placer_id, filler_id = sch.value(1, 1), sch.value(2, 1)
    if not placer_id and not filler_id:
        findings.missing(sch.at(2, 1), "the appointment id (SCH-1 or SCH-2)")
    appointment = _appointment_start(sch, segments, findings)
    services = [_service(ais, appointment, findings) for ais in segments if ais.id == "AIS"]
    if not services and action is not SchedulingAction.cancelled:
        findings.missing(Location("AIS"), "the service booked (AIS)")
    ails = [s for s in segments if s.id == "AIL" and s.repetitions(3)]
    locations = [_location(ail, findings) for ail in ails]
    pid = next((s for s in segments if s.id == "PID"), None)
    findings.check()
    data = {
        "action": action,
        "placer_appointment_id": placer_id or None,
        "filler_appointment_id": filler_id or None,
        "placer_order_number": sch.value(26, 1) or None,
        "patient_mrn": mrn(pid) if pid else None,
        "reason_code": sch.value(6, 1) or None,
        "services": services,
        "locations": locations,
    }
    sources = {
        "placer_appointment_id": sch.at(1, 1),
        "filler_appointment_id": sch.at(2, 1),
        "placer_order_number": sch.at(26, 1),
        "patient_mrn": Location("PID", field=3),
        "reason_code": sch.at(6, 1),
        "services": Location("AIS"),
        "locations": Location("AIL", field=3),
    }
    return findings.build_or_raise(SchedulingEvent, data, sources, sch.at())


def _when(findings: Findings, where: Location, text: str) -> When | None:
    if not text:
        return None
    read = read_dtm(text)
    if read is None:
        findings.invalid(where, "the start is not an HL7 date/time (YYYYMMDDHHMM...)")
    return read


def _appointment_start(sch: Placed, segments: list[Placed], findings: Findings) -> When | None:
    """SCH-11.4 (up to v2.4), else the first TQ1-7 (from v2.5)."""
    if sch.value(11, 4):
        return _when(findings, sch.at(11, 4), sch.value(11, 4))
    tq1 = next((s for s in segments if s.id == "TQ1"), None)
    return _when(findings, tq1.at(7, 1), tq1.value(7, 1)) if tq1 else None


def _service(ais: Placed, appointment: When | None, findings: Findings) -> ScheduledService | None:
    repetitions = ais.repetitions(3)
    coded = list(codings(repetitions[0])) if repetitions else []
    if not coded:
        findings.missing(ais.at(3, 1), "the service booked (AIS-3)")
        return None
    chosen = next((c for c in coded if c.system in PROCEDURE_SYSTEMS), coded[0])
    if chosen.system in PROCEDURE_SYSTEMS:
        try:
            procedure_code_system(chosen.code.upper())
        except ValueError as exc:
            findings.invalid(ais.at(3, chosen.component), str(exc))
    start = _when(findings, ais.at(4, 1), ais.value(4, 1)) or appointment
    duration = _duration(ais, findings)
    return findings.build(
        ScheduledService,
        {
            "code": chosen.code,
            "coding_system": chosen.system or None,
            "description": chosen.text or None,
            "service_date": start[0] if start else None,
            "start": start[1] if start else None,
            "duration_minutes": duration,
        },
        {"description": ais.at(3, chosen.component + 1), "duration_minutes": ais.at(7)},
        ais.at(3),
    )


def _duration(ais: Placed, findings: Findings) -> int | None:
    amount_text = ais.value(7)
    if not amount_text:
        return None
    amount = read_number(amount_text)
    per = _MINUTES_PER.get(ais.value(8, 1).upper())
    if amount is None:
        findings.invalid(ais.at(7), "the duration is not a number")
    elif not ais.value(8, 1):
        findings.missing(ais.at(8, 1), "the duration's units")
    elif per is None:
        findings.unknown(ais.at(8, 1), "duration units must be minutes (min) or hours (h)")
    else:
        minutes = amount * per
        if minutes == int(minutes):
            return int(minutes)
        findings.invalid(ais.at(7), "the duration is not a whole number of minutes")
    return None


def _location(ail: Placed, findings: Findings) -> ScheduledLocation | None:
    return findings.build(
        ScheduledLocation,
        {
            "facility": ail.value(3, 4) or None,
            "point_of_care": ail.value(3, 1) or None,
            "room": ail.value(3, 2) or None,
        },
        {"facility": ail.at(3, 4), "point_of_care": ail.at(3, 1), "room": ail.at(3, 2)},
        ail.at(3),
    )
