"""An EHR on loopback: it sends streams of synthetic orders, schedules, registrations and
documents over MLLP and checks every ACK, and it receives the decisions sent back.

Messages are made from templates (real-shaped messages, such as the golden files) with a fresh
MSH-10, MSH-7 and patient and order ids, so a stream of thousands holds no two alike. The
receiving side can be told to answer slowly, with an error, a reject, garbage or nothing, so
a sender's resend and error handling can be shown against it; it counts resends by MSH-10.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from connectors.hl7v2_mllp.acks import control_id as fresh_control_id
from connectors.hl7v2_mllp.client import AckTimeout, MllpClient
from connectors.hl7v2_mllp.connector import control_id
from connectors.hl7v2_mllp.listener import MllpListener, Peer
from connectors.sandbox import Fault
from connectors.sandbox_kit import FaultQueue
from mappings.hl7v2 import (
    AckMode,
    ErrorCode,
    Issue,
    Location,
    Message,
    Segment,
    acknowledge,
    header_of,
    parse,
    serialize,
)

# Segment id -> fields whose first component is an id to make unique per message.
_VARIED_IDS = {"PID": (3,), "ORC": (2,), "OBR": (2,), "SCH": (1, 2), "TXA": (12,)}


def load_templates(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.glob("*.hl7"))]


def synthetic_messages(templates: Sequence[bytes], prefix: str = "EHR") -> Iterator[bytes]:
    """An endless stream cycling through the templates, each with new ids."""
    if not templates:
        raise ValueError("at least one template is needed")
    parsed = [parse(t) for t in templates]
    for number, template in zip(itertools.count(1), itertools.cycle(parsed)):
        yield serialize(_varied(template, f"{prefix}{number:08d}", number))


def _varied(message: Message, control_id: str, number: int) -> Message:
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S%z")
    segments = []
    for original in message.segments:
        segment = original
        if segment.id == "MSH":
            segment = _with(segment, 7, lambda _: now)
            segment = _with(segment, 10, lambda _: control_id)
        for position in _VARIED_IDS.get(segment.id, ()):
            segment = _with(segment, position, lambda old: f"{old}-{number}" if old else "")
        segments.append(segment)
    return Message(tuple(segments))


def _with(segment: Segment, number: int, change: Callable[[str], str]) -> Segment:
    """`segment` with the first component of field `number`'s first repetition changed."""
    fields = list(segment.fields) + [()] * max(0, number - len(segment.fields))
    repetitions = list(fields[number - 1]) or [(("",),)]
    first = list(repetitions[0]) or [("",)]
    first[0] = (change(first[0][0] if first[0] else ""),)
    repetitions[0] = tuple(first)
    fields[number - 1] = tuple(repetitions)
    return Segment(segment.id, tuple(fields))


@dataclass
class StreamReport:
    """What one stream's sender saw: ACK codes by count, and what went wrong."""

    sent: int = 0
    acks: Counter[str] = field(default_factory=Counter)
    unechoed: int = 0  # ACKs whose MSA-2 did not echo the message's MSH-10
    timed_out: int = 0
    resent: int = 0
    unmatched_acks: int = 0


async def send_stream(
    templates: Sequence[bytes],
    count: int,
    *,
    host: str,
    port: int,
    tls: ssl.SSLContext | None = None,
    ack_timeout_seconds: float = 5.0,
    resends: int = 2,
    prefix: str = "EHR",
) -> StreamReport:
    """Send `count` messages over one connection, each after the previous one's ACK."""
    report = StreamReport()
    client = MllpClient(
        host,
        port,
        tls=tls,
        server_hostname="localhost" if tls else None,
        ack_timeout_seconds=ack_timeout_seconds,
        resends=resends,
    )
    try:
        for message in itertools.islice(synthetic_messages(templates, prefix), count):
            header = header_of(message)
            sent_id = header.value(10) if header is not None else ""
            report.sent += 1
            try:
                ack = await client.send(message)
            except AckTimeout:
                report.timed_out += 1
                continue
            msa = parse(ack).first("MSA")
            report.acks[msa.value(1) if msa is not None else ""] += 1
            if msa is None or msa.value(2) != sent_id:
                report.unechoed += 1
    finally:
        report.resent = client.resent
        report.unmatched_acks = client.unmatched_acks
        await client.aclose()
    return report


class Answer(StrEnum):
    """How the status receiver answers."""

    accept = "accept"
    error = "error"
    reject = "reject"
    garbage = "garbage"
    silence = "silence"  # never answers, and does not act on the message
    no_msa = "no_msa"  # an HL7 answer that is no ACK
    lost = "lost"  # acts on the message, then never answers


# The kit's faults as an EHR's MLLP interface shows them (it has no credentials or rate limits).
FAULT_ANSWERS: dict[Fault, Answer] = {
    Fault.timeout: Answer.silence,
    Fault.unavailable: Answer.reject,
    Fault.bad_request: Answer.error,
    Fault.malformed: Answer.garbage,
    Fault.off_contract: Answer.no_msa,
    Fault.lost_response: Answer.lost,
}


@dataclass(frozen=True)
class Received:
    control_id: str
    message: bytes = field(repr=False)
    peer: Peer


class StatusReceiver:
    """The EHR's inbound interface for casegate's decisions: records and acknowledges them."""

    def __init__(
        self,
        *,
        answer: Answer = Answer.accept,
        mode: AckMode | None = None,
        slow_first: int = 0,
        slow_seconds: float = 0.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answer = answer
        self._mode = mode
        self._slow_first = slow_first
        self._slow_seconds = slow_seconds
        self.received: list[Received] = []
        self.acted: Counter[str] = Counter()
        self._faults = FaultQueue()
        self.listener = MllpListener(self._handle, tls=tls)

    @property
    def base_url(self) -> str:
        return f"mllp://127.0.0.1:{self.listener.port}"

    def inject(self, fault: Fault, count: int = 1) -> None:
        """The next `count` messages are answered as `fault` shows on MLLP."""
        if fault not in FAULT_ANSWERS:
            raise ValueError(f"an MLLP interface cannot show {fault}")
        self._faults.inject(fault, count)

    def effects(self, key: str | None = None) -> int:
        """Distinct messages acted on (an EHR applies one MSH-10 once); with the idempotency key
        of a notice, whether the message it became was acted on."""
        if key is None:
            return len(self.acted)
        return 1 if control_id(key) in self.acted else 0

    def reset(self) -> None:
        self.received.clear()
        self.acted.clear()
        self._faults.clear()

    @property
    def duplicates(self) -> Counter[str]:
        """MSH-10 -> how many times it arrived again after the first."""
        seen = Counter(r.control_id for r in self.received)
        return Counter({key: n - 1 for key, n in seen.items() if n > 1})

    async def start(self) -> int:
        return await self.listener.start()

    async def aclose(self) -> None:
        await self.listener.aclose()

    async def _handle(self, message: bytes, peer: Peer) -> bytes:
        header = header_of(message)
        self.received.append(Received(header.value(10) if header else "", message, peer))
        if len(self.received) <= self._slow_first:
            await asyncio.sleep(self._slow_seconds)
        queued = self._faults.take()
        answer = FAULT_ANSWERS[queued.fault] if queued is not None else self.answer
        if answer in (Answer.accept, Answer.lost):
            self.acted[self.received[-1].control_id] += 1
        if answer in (Answer.silence, Answer.lost):
            await asyncio.Event().wait()
        if answer is Answer.garbage:
            return b"this is not an ACK"
        if answer is Answer.no_msa:
            return serialize(Message((Segment.of("MSH", "|", "^~\\&", "EHR"),)))
        issues: tuple[Issue, ...] = ()
        if answer is Answer.error:
            issues = (Issue(Location("ORC", 3, 1, 2), ErrorCode.required_field_missing, "no"),)
        elif answer is Answer.reject:
            issues = (Issue(Location(), ErrorCode.unsupported_message_type, "not taken here"),)
        return acknowledge(
            header,
            issues,
            control_id=fresh_control_id(),
            at=datetime.now(UTC),
            mode=self._mode,
        )
