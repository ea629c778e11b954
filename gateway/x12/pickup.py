"""Inbound batch pickup: 835 remittances and 277 claim statuses from a clearinghouse's folder.

Each file is read through the connector, split into interchanges, and each interchange is taken
once per sender and ISA13: a file picked up again (a crash before its removal, a clearinghouse
resending) changes nothing. An accepted 835 is mapped to its remittance and every claim with
contestable denials opens a `denial_appeal` case through the same durable intake as the API,
keyed by sender, ISA13 and claim, so a second pass cannot open a second case. The interchange is
recorded as received, with its raw bytes kept encrypted, only after its cases are committed,
and the file is removed only after that. What cannot be taken (bad X12, a denial whose claim
is unknown) is kept with a located error for a person, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from canonical.cases import CaseType
from canonical.remittance import Remittance
from connectors.errors import ConnectorError
from connectors.x12_clearinghouse.connector import X12ClearinghouseConnector
from gateway.intake import Caller, accepted_case, canonical_format
from gateway.runtime import Runtime
from gateway.settings import X12Pickup
from gateway.store.audit import append_audit
from gateway.store.cases import add_message, get_case
from gateway.store.control_numbers import record_inbound_interchange
from gateway.store.ids import new_id
from gateway.store.records import NewMessage
from gateway.store.schema import x12_inbound_interchanges
from gateway.telemetry import current_carrier, current_trace_id
from gateway.x12.claims import ClaimFolder
from mappings.x12 import CheckedInterchange, Interchange, X12Error, check, parse_interchanges
from mappings.x12.claim_status import read_277
from mappings.x12.denials import review_denials
from mappings.x12.errors import CanonicalMappingError
from mappings.x12.remittance import read_835
from mappings.x12.specs import X212_277, X221_835

_log = structlog.get_logger("casegate.x12.pickup")
MAX_LOCATED_ERRORS = 5


@dataclass
class PickupReport:
    """What one pass did; counts only, so it can be logged."""

    files: int = 0
    interchanges: int = 0
    duplicates: int = 0
    refused: int = 0
    remittances: int = 0
    claim_statuses: int = 0
    appeals_opened: int = 0
    unmatched_denials: int = 0


@dataclass
class _Taken:
    """One interchange's reading: the message error (None: fine) and the case it concerns."""

    format: str
    error: str | None = None
    case_id: str | None = None


class InboundPickup:
    def __init__(self, runtime: Runtime, pickup: X12Pickup) -> None:
        self._runtime = runtime
        self._pickup = pickup
        self._claims = ClaimFolder(pickup.claims_dir)
        self._caller = Caller(
            client_id=f"x12-pickup:{pickup.connector}",
            tenant=pickup.tenant,
            token_jti=None,
            source_address=None,
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.once()
                if report.files:
                    _log.info("x12_pickup", connector=self._pickup.connector, **vars(report))
            except ConnectorError as exc:
                _log.warning(
                    "x12_pickup_failed", connector=self._pickup.connector, reason=exc.reason
                )
            except Exception as exc:  # a store outage: the files wait for the next pass
                # The class only: a driver's message may quote the row it failed on.
                _log.error(
                    "x12_pickup_failed",
                    connector=self._pickup.connector,
                    error_type=type(exc).__name__,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._pickup.interval_seconds)

    async def once(self) -> PickupReport:
        """One pass over the report folder."""
        connector = await self._runtime.connectors.get(self._pickup.connector)
        if not isinstance(connector, X12ClearinghouseConnector) or connector.batch is None:
            raise ConnectorError(f"connector {self._pickup.connector} has no batch folders")
        batch = connector.batch
        report = PickupReport()
        for name in await batch.reports():
            data = await batch.read_report(name)
            if data is None:
                continue
            report.files += 1
            await self._take_file(data, report)
            await batch.remove_report(name)
        return report

    async def _take_file(self, data: bytes, report: PickupReport) -> None:
        try:
            interchanges = parse_interchanges(data)
        except X12Error as exc:
            report.refused += 1
            await self._keep(data, _Taken("x12", f"unreadable X12: {exc}"), None)
            return
        if not interchanges:
            report.refused += 1
            await self._keep(data, _Taken("x12", "the file holds no interchange"), None)
            return
        for interchange in interchanges:
            report.interchanges += 1
            if await self._already_received(interchange):
                report.duplicates += 1
                continue
            taken = await self._take(check(interchange), report)
            await self._keep(interchange.to_bytes(), taken, interchange)

    async def _already_received(self, interchange: Interchange) -> bool:
        qualifier, sender = interchange.sender
        table = x12_inbound_interchanges
        query = sa.select(sa.literal(1)).where(
            table.c.sender_qualifier == qualifier.strip(),
            table.c.sender_id == sender.strip(),
            table.c.control_number == interchange.control_number.strip(),
        )
        async with self._runtime.store.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def _take(self, checked: CheckedInterchange, report: PickupReport) -> _Taken:
        if not checked.accepted:
            report.refused += 1
            located = [f"{w}: {m}" for w, m in checked.located_errors()][:MAX_LOCATED_ERRORS]
            return _Taken("x12", "refused: " + "; ".join(located))
        taken = _Taken("x12")
        problems: list[str] = []
        for transaction in checked.transactions:
            tree = transaction.tree
            if tree is None:
                continue
            try:
                if transaction.spec is X221_835:
                    taken.format = "x12/835"
                    report.remittances += 1
                    remittance = read_835(tree)
                    opened, unmatched = await self._appeals(checked, remittance)
                    report.appeals_opened += opened
                    report.unmatched_denials += unmatched
                    if unmatched:
                        problems.append(f"{unmatched} denied claim(s) match no submitted claim")
                elif transaction.spec is X212_277:
                    taken.format = "x12/277"
                    report.claim_statuses += 1
                    result = read_277(tree)
                    taken.case_id = await self._known_case(result.case_id)
                else:
                    problems.append(
                        f"transaction set {transaction.transaction.set_id} is not a report"
                    )
            except (X12Error, CanonicalMappingError) as exc:
                found = transaction.transaction
                where = f"transaction set {found.set_id} at segment {found.position}"
                problems.append(f"{where}: does not map to canonical: {exc}")
        taken.error = "; ".join(problems) or None
        return taken

    async def _appeals(
        self, checked: CheckedInterchange, remittance: Remittance
    ) -> tuple[int, int]:
        numbers = {claim.patient_account_number for claim in remittance.claims}
        review = review_denials(remittance, await self._claims.claims(numbers))
        interchange = f"{'/'.join(checked.interchange.sender)}:{checked.interchange.control_number}"
        runtime = self._runtime
        opened = 0
        for appeal in review.appeals:
            raw = appeal.model_dump_json().encode()
            # The account number names a patient's claim: only its keyed hash goes in the key.
            account = runtime.hasher.hash(appeal.claim.patient_account_number)
            key = f"x12:{interchange}:{account}"
            record = accepted_case(
                case_type=CaseType.denial_appeal,
                payload=appeal,
                raw=raw,
                wire_format=canonical_format(CaseType.denial_appeal),
                caller=self._caller,
                idempotency_key=key,
                hasher=runtime.hasher,
                trace_context=current_carrier(),
                trace_id=current_trace_id(),
                policies=runtime.policies.book,
            )
            outcome = await runtime.committer.submit(record)
            if outcome.kind == "accepted":
                opened += 1
        return opened, len(review.unmatched)

    async def _known_case(self, case_id: str | None) -> str | None:
        if case_id is None:
            return None
        async with self._runtime.store.connect() as conn:
            row = await get_case(conn, case_id, self._pickup.tenant)
        return row.id if row is not None else None

    async def _keep(self, raw: bytes, taken: _Taken, interchange: Interchange | None) -> None:
        """The raw interchange, its receipt and an audit entry, in one transaction."""
        now = datetime.now(UTC)
        message = NewMessage(
            id=new_id(),
            tenant=self._pickup.tenant,
            case_id=taken.case_id,
            direction="inbound",
            format=taken.format,
            body=raw,
            error=taken.error,
            created_at=now,
        )
        audit = self._caller.audit(
            "C",
            "0" if taken.error is None else "4",
            trace_id=current_trace_id(),
            detail={"x12_pickup": taken.format, "message_id": message.id},
            case_id=taken.case_id,
        )
        async with self._runtime.store.begin() as conn:
            if interchange is not None:
                qualifier, sender = interchange.sender
                fresh = await record_inbound_interchange(
                    conn,
                    sender_qualifier=qualifier,
                    sender_id=sender,
                    control_number=interchange.control_number,
                    message_id=message.id,
                    received_at=now,
                )
                if not fresh:
                    return  # another pass took it meanwhile
            await add_message(conn, self._runtime.store.cipher, message)
            await append_audit(conn, [audit])


async def run_pickups(runtime: Runtime, stop: asyncio.Event) -> None:
    """Every configured pickup, each on its own interval, until `stop`."""
    pickups = [InboundPickup(runtime, p) for p in runtime.settings.x12.pickup]
    if pickups:
        await asyncio.gather(*(p.run(stop) for p in pickups))
