"""HL7 figures: full durable ingest over MLLP, and the codec alone.

`run()` returns (name, ratio, note) rows for `python -m bench`:
- ORM^O01 orders over MLLP -> policy decision -> durable case (group commit, SQLite with
  synchronous=FULL) -> ACK, messages per second, as a ratio over python-hl7 merely parsing the
  same messages (goal: at least 1.0: ingest as fast as a peer only parses);
- our codec parsing those messages, as a ratio over hl7apy's parser (goal: at least 20x).
The gateway runtime runs in this process on a temporary home; the senders are MLLP clients on
loopback in a child process (the EHR is another machine in real life), several connections at
once as an EHR's interface engine would open. Both sides get the same messages, and both are
timed warm: the senders first send WARMUP other orders untimed (as the parsers' rounds repeat),
and the python-hl7 rounds are split before and after the ingest, so a load that changes on a
shared machine weighs on both alike.
Run alone: `uv run python -m bench.hl7_bench`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import hl7
from hl7apy.parser import parse_message

from canonical.cases import PriorAuthorizationRequest
from connectors.hl7v2_mllp import MllpClient, frame
from connectors.hl7v2_mllp.framing import END
from connectors.hl7v2_mllp.orders import order_message
from gateway.demo.backlog import backlog
from gateway.hl7.edge import start_hl7_listener
from gateway.runtime import open_runtime
from gateway.settings import Hl7Settings, Settings, WorkerSettings
from mappings.hl7v2 import parse

MESSAGES = 1_500
WARMUP = 2 * 32
CONNECTIONS = 32
HL7APY_MESSAGES = 30
ROUNDS = 3


def orders(count: int, seed: int = 7) -> list[bytes]:
    """ORM^O01 messages made from the demo backlog's prior authorizations."""
    at = datetime.now(UTC)
    requests = (
        PriorAuthorizationRequest.model_validate(body)
        for body in backlog(count * 2, seed=seed)
        if "service_lines" in body and "diagnoses" in body
    )
    return [
        order_message(request, control_id=f"B{n:08d}", placer_prefix=f"B{n}", at=at)
        for n, request in zip(range(count), requests, strict=False)
    ]


def _parse_rates(
    parse_one: Callable[[bytes], object], messages: Sequence[bytes], rounds: int = ROUNDS
) -> list[float]:
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for message in messages:
            parse_one(message)
        rates.append(len(messages) / (time.perf_counter() - started))
    return rates


def _parse_rate(parse_one: Callable[[bytes], object], messages: Sequence[bytes]) -> float:
    return statistics.median(_parse_rates(parse_one, messages))


def _python_hl7(message: bytes) -> object:
    return hl7.parse(message.decode())


def _hl7apy(message: bytes) -> object:
    return parse_message(message.decode(), find_groups=True)


async def _send_all(port: int, warmup: Sequence[bytes], messages: Sequence[bytes]) -> float:
    """Messages per second from the first send to the last ACK, over CONNECTIONS streams,
    once `warmup` went the same way untimed."""
    clients = [MllpClient("127.0.0.1", port) for _ in range(CONNECTIONS)]
    try:
        for client in clients:
            await client.connect()

        async def stream(client: MllpClient, share: Sequence[bytes]) -> None:
            for message in share:
                await client.send(message)

        async def over_all(batch: Sequence[bytes]) -> None:
            shares = [batch[i::CONNECTIONS] for i in range(CONNECTIONS)]
            await asyncio.gather(*(stream(c, s) for c, s in zip(clients, shares, strict=True)))

        await over_all(warmup)
        started = time.perf_counter()
        await over_all(messages)
        return len(messages) / (time.perf_counter() - started)
    finally:
        for client in clients:
            await client.aclose()


async def _ingest(
    warmup: Sequence[bytes], messages: Sequence[bytes], home: Path
) -> tuple[float, int]:
    """The EHR side runs as its own process (another machine, in real life); returns its
    messages per second and the records the gateway committed (warm-up included)."""
    settings = Settings(
        home=home,
        log_level="WARNING",
        workers=WorkerSettings(in_process=False),
        hl7=Hl7Settings(enabled=True, port=0),
    )
    runtime = await open_runtime(settings)
    listener = await start_hl7_listener(runtime)
    assert listener is not None
    batch = home / "messages.bin"
    batch.write_bytes(b"".join(frame(m) for m in (*warmup, *messages)))
    try:
        sender = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.hl7_bench",
            "--send",
            str(listener.port),
            str(batch),
            str(len(warmup)),
            stdout=asyncio.subprocess.PIPE,
        )
        output, _ = await sender.communicate()
        stored = runtime.committer.rows
    finally:
        await listener.aclose()
        await runtime.close()
    if sender.returncode != 0:
        raise RuntimeError("the MLLP sender process failed")
    return float(json.loads(output)["rate"]), stored


def _sender_main(port: int, batch: Path, warmup: int) -> None:
    data = batch.read_bytes()
    messages = [part[1:] for part in data.split(END) if part]
    rate = asyncio.run(_send_all(port, messages[:warmup], messages[warmup:]))
    print(json.dumps({"rate": rate}))


def run() -> list[tuple[str, float, str]]:
    sent = orders(WARMUP + MESSAGES)
    warmup, messages = sent[:WARMUP], sent[WARMUP:]
    python_hl7_rates = _parse_rates(_python_hl7, messages, rounds=ROUNDS)
    codec_rate = _parse_rate(parse, messages)
    hl7apy_rate = _parse_rate(_hl7apy, messages[:HL7APY_MESSAGES])
    with tempfile.TemporaryDirectory(prefix="casegate-hl7-bench-") as folder:
        ingest_rate, stored = asyncio.run(_ingest(warmup, messages, Path(folder)))
    python_hl7_rates += _parse_rates(_python_hl7, messages, rounds=ROUNDS)
    python_hl7_rate = statistics.median(python_hl7_rates)
    return [
        (
            "HL7 ORM^O01 over MLLP -> durable case -> ACK (vs python-hl7 parse only)",
            ingest_rate / python_hl7_rate,
            f"{ingest_rate:,.0f} msg/s durable ({stored} stored with {WARMUP} warm-up,"
            f" {CONNECTIONS} connections, SQLite synchronous=FULL) vs python-hl7 hl7.parse"
            f" {python_hl7_rate:,.0f} msg/s (median of {len(python_hl7_rates)} rounds around"
            " the ingest); goal >= 1.0",
        ),
        (
            "HL7 codec parse (vs hl7apy parse_message)",
            codec_rate / hl7apy_rate,
            f"ours {codec_rate:,.0f} msg/s vs hl7apy {hl7apy_rate:,.0f} msg/s; goal >= 20x",
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--send"]:
        _sender_main(int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    else:
        for figure, ratio, note in run():
            print(f"{figure}: {ratio:.1f}x  ({note})")
