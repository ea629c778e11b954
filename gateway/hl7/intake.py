"""The MLLP listener's handler: each EHR message kept, what it causes made durable, then its ACK.

An order the policy book says needs authorization opens a case through the group commit the
HTTP API uses (case, first event, the policy decision with its SLA clock, the send job or the
work items of a hold, raw message, audit and the order links in one transaction); later
messages about its orders or its patient change the open case in one transaction of their own;
anything else is kept and accepted. Bad input is kept with its located error and earns AE/AR
(CE/CR). Each ACK is stored under the sender and MSH-10 in the same transaction, so a resend
(the ACK was lost, or the sender timed out) gets the same ACK and stores nothing new. The ACK
is returned only after the commit: a crash before it leaves the sender unanswered, and its
resend is then stored once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from canonical.cases import CaseType
from connectors.hl7v2_mllp import AllowedSender, Peer
from connectors.hl7v2_mllp.acks import control_id as fresh_control_id
from connectors.hl7v2_mllp.acks import not_allowed_ack, too_large_ack
from connectors.hl7v2_mllp.allow import refusal
from gateway.hl7.changes import CaseChange, change_for
from gateway.hl7.links import (
    cases_for_orders,
    claimed_case,
    open_cases_of_patient,
    origin_rows,
    stored_ack,
)
from gateway.intake import Caller, accepted_case, event_record, fingerprint, rejected_input
from gateway.metrics import GatewayMetrics, gateway_metrics
from gateway.orchestration.decisions import decide
from gateway.runtime import Runtime
from gateway.settings import Hl7Settings
from gateway.store import cases
from gateway.store.audit import append_audit
from gateway.store.bulk import insert_new_rows
from gateway.store.clock import utcnow
from gateway.store.intake import IntakeRecord
from gateway.store.records import IdempotencyClaim, NewMessage
from gateway.store.schema import idempotency_keys
from gateway.telemetry import OUTCOME, current_carrier, current_trace_id, traced
from mappings.hl7v2 import (
    AckMode,
    DocumentEvent,
    Hl7Error,
    Inbound,
    Issue,
    OrderCancellation,
    PriorAuthorizationOrder,
    RegistrationEvent,
    SchedulingEvent,
    Segment,
    Sender,
    acknowledge,
    header_of,
    read_inbound,
)
from mappings.hl7v2.header import MAX_CONTROL_ID
from mappings.hl7v2.vocabulary import OrderControl
from policies.decision import PolicyDecision

WIRE_FORMAT = "hl7v2"
ACK_STATUS = 200  # the stored answer's status: an ACK says everything in its MSA
IN_FLIGHT_POLL_SECONDS = 0.05
IN_FLIGHT_WAIT_SECONDS = 5.0
MESSAGE_TYPE = "hl7.message_type"


ChangingEvent = (
    PriorAuthorizationOrder
    | OrderCancellation
    | SchedulingEvent
    | RegistrationEvent
    | DocumentEvent
)


class StillInFlight(RuntimeError):
    """The same message is being stored right now; the sender is answered AR and resends."""


@dataclass(frozen=True, slots=True)
class _Received:
    raw: bytes
    header: Segment | None
    sender: str
    control_id: str | None
    caller: Caller
    at: datetime

    @property
    def client_id(self) -> str:
        return self.caller.client_id


def allowed_senders(settings: Hl7Settings) -> tuple[AllowedSender, ...] | None:
    if settings.senders is None:
        return None
    return tuple(
        AllowedSender(s.application, s.facility, tuple(s.networks)) for s in settings.senders
    )


class Hl7Intake:
    def __init__(
        self, runtime: Runtime, settings: Hl7Settings, metrics: GatewayMetrics | None = None
    ) -> None:
        self._runtime = runtime
        self._settings = settings
        self._metrics = metrics or gateway_metrics()
        self._mode = AckMode(settings.ack_mode) if settings.ack_mode else None
        self._allowed = allowed_senders(settings)
        self._ack_sender = Sender()

    async def handle(self, raw: bytes, peer: Peer) -> bytes:
        """The ACK for `raw`, returned only once everything it causes is committed."""
        with traced("hl7.intake") as span:
            received = self._received(raw, peer)
            ack, outcome = await self._answer(received)
            span.set_attribute(OUTCOME, outcome)
            if received.header is not None:
                span.set_attribute(MESSAGE_TYPE, _type_event(received.header))
        self._metrics.intake(WIRE_FORMAT, outcome)
        return ack

    async def refuse_too_large(self, head: bytes, size: int, peer: Peer) -> bytes:
        """A frame over the limit was skipped as it streamed in: its first bytes are kept with
        the error (the whole would not fit the limit that protects memory), then the reject."""
        with traced("hl7.intake") as span:
            received = self._received(head, peer)
            ack = too_large_ack(head, self._ack_sender)
            limit = self._settings.max_message_bytes
            error = f"a message of {size} bytes, over the limit of {limit}; its head is kept"
            await self._keep(received, ack, error=error, claimed=False)
            span.set_attribute(OUTCOME, "too_large")
        self._metrics.intake(WIRE_FORMAT, "too_large")
        return ack

    async def retake(
        self, raw: bytes, inbound: Inbound, *, client_id: str, key: str, tenant: str
    ) -> tuple[str, str | None]:
        """Take a kept message again after a fix, claimed under (`client_id`, `key`) since its
        MSH-10 holds the refusal: what happened, and the case it opened or changed."""
        first = self._received(raw, Peer("", 0))
        caller = dataclasses.replace(first.caller, client_id=client_id, tenant=tenant)
        received = dataclasses.replace(first, caller=caller, control_id=key)
        _, outcome = await self._take(received, inbound)
        async with self._runtime.store.connect() as conn:
            case_id = await claimed_case(conn, client_id, key)
        return outcome, case_id

    def _received(self, raw: bytes, peer: Peer) -> _Received:
        header = header_of(raw)
        application = header.value(3) if header is not None else ""
        facility = header.value(4) if header is not None else ""
        sender = self._runtime.hasher.hash(WIRE_FORMAT, application, facility)
        control_id = header.value(10) if header is not None else ""
        usable = bool(control_id) and len(control_id) <= MAX_CONTROL_ID
        caller = Caller(
            client_id=f"{WIRE_FORMAT}:{sender}",
            tenant=self._settings.tenant,
            token_jti=None,
            source_address=peer.host,
        )
        return _Received(raw, header, sender, control_id if usable else None, caller, utcnow())

    async def _answer(self, received: _Received) -> tuple[bytes, str]:
        if self._allowed is not None:
            refused = refusal(self._allowed, received.header, received.caller.source_address or "")
            if refused is not None:
                ack = not_allowed_ack(received.raw, refused.field, self._ack_sender)
                error = "the sender is not on the allow list"
                await self._keep(received, ack, error=error, claimed=False)
                return ack, "not_allowed"
        try:
            inbound = read_inbound(received.raw)
        except Hl7Error as exc:
            ack = self._ack(received.header, exc.issues)
            error = "; ".join(str(issue) for issue in exc.issues)
            return await self._keep(received, ack, error=error)
        return await self._take(received, inbound)

    async def _take(self, received: _Received, inbound: Inbound) -> tuple[bytes, str]:
        event = inbound.event
        ack = self._ack(inbound.message.header, ())
        if isinstance(event, PriorAuthorizationOrder) and event.control is OrderControl.new:
            # ORC-1 NW is a new order by definition: no lookup on the hot path. (A resend
            # carries the same MSH-10, which the claim in the commit recognises.)
            return await self._order(received, event, ack)
        orders = _placer_orders(event)
        async with self._runtime.store.connect() as conn:
            linked = await cases_for_orders(conn, received.sender, orders)
            patient = _patient_mrn(event)
            if not linked and patient and isinstance(event, (RegistrationEvent, DocumentEvent)):
                patient_cases = await open_cases_of_patient(
                    conn, received.sender, self._patient(received, patient)
                )
                # A document belongs to the patient's latest case; a coverage change to all.
                linked = patient_cases[-1:] if isinstance(event, DocumentEvent) else patient_cases
        if isinstance(event, PriorAuthorizationOrder) and not linked:
            # A change to an order we never opened a case for: judged like a new order.
            return await self._order(received, event, ack)
        if not linked:
            return await self._keep(received, ack)
        return await self._change(received, event, linked, ack), "changed"

    def _ack(self, header: Segment | None, issues: Sequence[Issue]) -> bytes:
        return acknowledge(
            header,
            issues,
            control_id=fresh_control_id(),
            at=datetime.now(UTC),
            mode=self._mode,
            sender=self._ack_sender,
        )

    def _patient(self, received: _Received, mrn: str) -> str:
        return self._runtime.hasher.hash(WIRE_FORMAT, received.sender, mrn)

    async def _order(
        self, received: _Received, event: PriorAuthorizationOrder, ack: bytes
    ) -> tuple[bytes, str]:
        """Open a case when the policy book says the order needs authorization, deciding once:
        the same decision is stored with the case. An order no pack can decide for opens a case
        too, sent on the routes in settings as before policies existed, rather than dropped."""
        book = self._runtime.policies.book
        decision = decide(book, CaseType.prior_authorization, event.request, received.at)
        if decision is None or decision.auth_required:
            return await self._open(received, event, ack, decision)
        return await self._keep(received, ack)

    def _claim(self, received: _Received, ack: bytes) -> IdempotencyClaim | None:
        if received.control_id is None:
            return None
        return IdempotencyClaim(
            client_id=received.client_id,
            key=received.control_id,
            fingerprint=fingerprint(received.raw),
            response_status=ACK_STATUS,
            response_body=ack,
        )

    async def _submit(
        self, received: _Received, record: IntakeRecord, ack: bytes, done: str
    ) -> tuple[bytes, str]:
        """The ACK to give and what happened: `done` when written, else `replayed`."""
        outcome = await self._runtime.committer.submit(record)
        if outcome.kind == "accepted":
            return ack, done
        if outcome.kind == "replayed":
            return outcome.body, "replayed"
        # The same MSH-10 with other content, or still being written: the first ACK stands.
        return await self._first_ack(received), "replayed"

    async def _first_ack(self, received: _Received) -> bytes:
        assert received.control_id is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + IN_FLIGHT_WAIT_SECONDS
        while True:
            async with self._runtime.store.connect() as conn:
                stored = await stored_ack(conn, received.client_id, received.control_id)
            if stored is not None:
                return stored
            if loop.time() > deadline:
                raise StillInFlight("the same message is still being stored")
            await asyncio.sleep(IN_FLIGHT_POLL_SECONDS)

    async def _keep(
        self, received: _Received, ack: bytes, *, error: str | None = None, claimed: bool = True
    ) -> tuple[bytes, str]:
        """Store the message (with its error, if refused) and its ACK; open nothing.

        `claimed=False` keeps no ACK under the MSH-10, so the same message is judged afresh
        when it comes again (a sender refused by the allow list, before it is added).
        """
        if error is not None:
            record = rejected_input(
                raw=received.raw,
                wire_format=WIRE_FORMAT,
                caller=received.caller,
                error=error,
                trace_id=current_trace_id(),
            )
        else:
            record = IntakeRecord(
                idempotency=None,
                case=None,
                event=None,
                job=None,
                message=received.caller.inbound(
                    received.raw, WIRE_FORMAT, received.at, case_id=None, error=None
                ),
                audit=received.caller.audit(
                    "C", "0", trace_id=current_trace_id(), detail={"hl7": "kept"}
                ),
            )
        claim = self._claim(received, ack) if claimed else None
        record = dataclasses.replace(record, idempotency=claim)
        return await self._submit(received, record, ack, "kept" if error is None else "rejected")

    async def _open(
        self,
        received: _Received,
        event: PriorAuthorizationOrder,
        ack: bytes,
        decision: PolicyDecision | None,
    ) -> tuple[bytes, str]:
        record = accepted_case(
            case_type=CaseType.prior_authorization,
            payload=event.request,
            raw=received.raw,
            wire_format=WIRE_FORMAT,
            caller=received.caller,
            idempotency_key=None,
            hasher=self._runtime.hasher,
            trace_context=current_carrier(),
            trace_id=current_trace_id(),
            decided=decision,
        )
        assert record.case is not None
        mrn = event.request.patient.mrn
        links = origin_rows(
            record.case.id,
            sender=received.sender,
            patient=self._patient(received, mrn) if mrn else None,
            notify=self._settings.decisions_to,
            placer_order_numbers=event.placer_order_numbers,
            at=received.at,
        )
        record = dataclasses.replace(record, idempotency=self._claim(received, ack), extra=links)
        return await self._submit(received, record, ack, "accepted")

    async def _change(
        self, received: _Received, event: ChangingEvent, case_ids: Sequence[str], ack: bytes
    ) -> bytes:
        """Apply `event` to the linked open cases, keep the message and its ACK: one commit."""
        store = self._runtime.store
        message = received.caller.inbound(
            received.raw, WIRE_FORMAT, received.at, case_id=case_ids[0], error=None
        )
        claim = self._claim(received, ack)
        async with store.begin() as conn:
            first = claim is None or await _claimed(conn, claim, case_ids[0], received.at)
            if first:
                await self._apply_all(conn, received, event, case_ids, message)
        return ack if first else await self._first_ack(received)

    async def _apply_all(
        self,
        conn: AsyncConnection,
        received: _Received,
        event: ChangingEvent,
        case_ids: Sequence[str],
        message: NewMessage,
    ) -> None:
        rows = await cases.get_cases(conn, case_ids)
        changes = [
            change
            for row in rows.values()
            if (change := change_for(row, event, message.id, received.at)) is not None
        ]
        await _apply(conn, changes)
        await cases.add_messages(conn, self._runtime.store.cipher, [message])
        trace_id = current_trace_id()
        entries = [
            received.caller.audit(
                "U", "0", case_id=c.case_id, trace_id=trace_id, detail={"hl7": c.event.type}
            )
            for c in changes
        ] or [received.caller.audit("C", "0", trace_id=trace_id, detail={"hl7": "kept"})]
        await append_audit(conn, entries)


class CaseMovedOn(RuntimeError):
    """A case changed while the message was applied; nothing was stored, the sender resends."""


async def _claimed(
    conn: AsyncConnection, claim: IdempotencyClaim, case_id: str, at: datetime
) -> bool:
    """Store the ACK under the MSH-10; False when a first copy of the message already did."""
    row = {
        "client_id": claim.client_id,
        "key": claim.key,
        "fingerprint": claim.fingerprint,
        "response_status": claim.response_status,
        "response_body": claim.response_body,
        "case_id": case_id,
        "created_at": at,
    }
    return bool(await insert_new_rows(conn, idempotency_keys, [row], ("client_id", "key")))


async def _apply(conn: AsyncConnection, changes: Sequence[CaseChange]) -> None:
    for change in changes:
        moved = await cases.update_case(
            conn,
            change.case_id,
            change.expected_version,
            status=change.status.value,
            payload=change.payload,
        )
        if not moved:
            raise CaseMovedOn("a case changed while an HL7 message was applied to it")
    await cases.append_events(conn, [event_record(c.event) for c in changes])


def _type_event(header: Segment) -> str:
    return f"{header.value(9, 1)}^{header.value(9, 2)}"[:16]


def _placer_orders(event: object) -> list[str]:
    if isinstance(event, (PriorAuthorizationOrder, OrderCancellation, DocumentEvent)):
        return list(event.placer_order_numbers)
    if isinstance(event, SchedulingEvent) and event.placer_order_number:
        return [event.placer_order_number]
    return []


def _patient_mrn(event: object) -> str | None:
    if isinstance(event, RegistrationEvent):
        return event.patient.mrn
    if isinstance(event, (SchedulingEvent, DocumentEvent)):
        return event.patient_mrn
    return None
