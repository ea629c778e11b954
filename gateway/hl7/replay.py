"""Replaying a kept HL7 message after a fix (the sender added to the allow list, a mapping
corrected): read again, and taken as if it had just arrived, under the replay's own key."""

from __future__ import annotations

from typing import Literal

from gateway.hl7.intake import Hl7Intake
from gateway.runtime import Runtime
from gateway.store.records import MessageRow
from mappings.hl7v2 import Hl7Error, read_inbound

Retaken = tuple[Literal["accepted", "replayed", "still_invalid"], str | None, list[tuple[str, str]]]


async def replay_hl7(runtime: Runtime, message: MessageRow, client_id: str) -> Retaken:
    """(what happened, the case opened or changed, the located problems if still invalid)."""
    try:
        inbound = read_inbound(message.body)
    except Hl7Error as exc:
        return "still_invalid", None, [(str(i.location), i.message) for i in exc.issues]
    intake = Hl7Intake(runtime, runtime.settings.hl7)
    outcome, case_id = await intake.retake(
        message.body,
        inbound,
        client_id=client_id,
        key=f"message:{message.id}",
        tenant=message.tenant,
    )
    return ("replayed" if outcome == "replayed" else "accepted"), case_id, []
