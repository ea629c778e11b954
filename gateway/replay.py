"""Replaying kept input: a request refused at the edge is stored, encrypted, with its located
error; once the sender's data (or our validation) is fixed, an operator feeds it through intake
again. The replay's idempotency key is the message id, so replaying twice opens one case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from canonical.cases import PAYLOAD_MODELS, CaseType
from gateway.audit.entries import MESSAGE_REPLAY, admin_action
from gateway.fhir.facade_replay import NotReplayable, is_facade_message, replay_facade
from gateway.hl7.intake import WIRE_FORMAT as HL7_FORMAT
from gateway.hl7.replay import replay_hl7
from gateway.intake import CANONICAL_JSON, Caller, accepted_case
from gateway.runtime import Runtime
from gateway.store import audit, cases
from mappings.pointers import located

REPLAY_CLIENT = "replay"


class ReplayError(ValueError):
    """The message cannot be replayed; the text names why, never the content."""


@dataclass(frozen=True)
class ReplayOutcome:
    kind: Literal["accepted", "replayed", "still_invalid"]
    case_id: str | None
    errors: list[tuple[str, str]]


async def replay_message(runtime: Runtime, message_id: str, operator: str) -> ReplayOutcome:
    async with runtime.store.connect() as conn:
        message = await cases.get_message(conn, runtime.store.cipher, message_id)
    if message is None or message.direction != "inbound" or message.error is None:
        raise ReplayError(f"no kept, refused inbound message {message_id}")
    if message.format == HL7_FORMAT or is_facade_message(message.format):
        try:
            taken, case_id, errors = (
                await replay_hl7(runtime, message, REPLAY_CLIENT)
                if message.format == HL7_FORMAT
                else await replay_facade(runtime, message)
            )
        except NotReplayable as exc:
            raise ReplayError(str(exc)) from None
        if taken == "still_invalid":
            return ReplayOutcome(taken, None, errors)
        await _mark_replayed(runtime, message.id, case_id, operator)
        return ReplayOutcome(taken, case_id, [])
    kind, _, type_name = message.format.partition("/")
    if kind != CANONICAL_JSON or type_name not in CaseType.__members__:
        raise ReplayError(f"messages in format {message.format} cannot be replayed yet")
    case_type = CaseType(type_name)
    try:
        payload = PAYLOAD_MODELS[case_type].model_validate_json(message.body, strict=True)
    except ValidationError as exc:
        return ReplayOutcome("still_invalid", None, located(exc))
    caller = Caller(
        client_id=REPLAY_CLIENT, tenant=message.tenant, token_jti=None, source_address=None
    )
    outcome = await runtime.committer.submit(
        accepted_case(
            case_type=case_type,
            payload=payload,
            raw=message.body,
            wire_format=message.format,
            caller=caller,
            idempotency_key=f"message:{message.id}",
            hasher=runtime.hasher,
            trace_context={},
            trace_id=None,
            policies=runtime.policies.book,
        )
    )
    if outcome.kind not in ("accepted", "replayed"):
        raise ReplayError(f"intake answered {outcome.kind}")
    case_id = str(json.loads(outcome.body)["id"])
    await _mark_replayed(runtime, message.id, case_id, operator)
    return ReplayOutcome(outcome.kind, case_id, [])


async def _mark_replayed(
    runtime: Runtime, message_id: str, case_id: str | None, operator: str
) -> None:
    async with runtime.store.begin() as conn:
        await cases.mark_message_replayed(conn, message_id, datetime.now(UTC))
        entry = admin_action(
            operator=operator,
            action="E",
            event=MESSAGE_REPLAY,
            detail={"message_id": message_id, "case_id": case_id},
        )
        await audit.append_audit(conn, [entry])
