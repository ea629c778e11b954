"""Replaying a bundle the facade refused: read again as if its EHR had just sent it.

The case opens in the sending client's namespace (recorded with the refused bundle), so the
EHR's own `$inquire` and Subscription find it, and a Claim it has since resent is the same case.
An inquiry changes nothing, so there is nothing to replay: the EHR asks again.
"""

from __future__ import annotations

import json
from typing import Literal

from gateway.fhir.facade import parse_bundle_json
from gateway.fhir.facade_intake import SUBMIT_FORMAT, facade_case, sender_of
from gateway.intake import Caller
from gateway.runtime import Runtime
from gateway.store.records import MessageRow
from mappings.fhir_pas.errors import PasMappingError
from mappings.fhir_pas.request_reader import read_request_bundle_leniently

Retaken = tuple[Literal["accepted", "replayed", "still_invalid"], str | None, list[tuple[str, str]]]


class NotReplayable(ValueError):
    """The kept bundle cannot go through intake again; the text names why, never the content."""


def is_facade_message(stored_format: str) -> bool:
    return sender_of(stored_format)[0].startswith("fhir-pas/")


async def replay_facade(runtime: Runtime, message: MessageRow) -> Retaken:
    """(what happened, the case opened, the located problems if the bundle is still refused)."""
    wire_format, client_id = sender_of(message.format)
    if wire_format != SUBMIT_FORMAT:
        raise NotReplayable(f"messages in format {wire_format} change nothing when replayed")
    if client_id is None:
        raise NotReplayable("the refused bundle's sender was not recorded")
    try:
        read = read_request_bundle_leniently(parse_bundle_json(message.body))
    except PasMappingError as exc:
        return "still_invalid", None, [(i.expression, i.diagnostics) for i in exc.issues]
    caller = Caller(client_id=client_id, tenant=message.tenant, token_jti=None, source_address=None)
    try:
        record = facade_case(
            read=read,
            raw=message.body,
            caller=caller,
            hasher=runtime.hasher,
            trace_context={},
            trace_id=None,
            policies=runtime.policies.book,
        )
    except PasMappingError as exc:
        return "still_invalid", None, [(i.expression, i.diagnostics) for i in exc.issues]
    outcome = await runtime.committer.submit(record)
    if outcome.kind == "mismatch":
        raise NotReplayable("another Claim was accepted under this Claim identifier since")
    if outcome.kind not in ("accepted", "replayed"):
        raise NotReplayable(f"intake answered {outcome.kind}")
    case_id = str(json.loads(outcome.body)["case_id"])
    return ("replayed" if outcome.kind == "replayed" else "accepted"), case_id, []
