"""Throughput of the X12 codec: `uv run python tests/mappings/x12/measure_throughput.py`.

Not a test, since timings depend on the machine: parse + validate of the golden 278 request
and response, their mapping to canonical, and streaming the segments of a large file.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

from mappings.x12 import iter_segments, read, read_278_request, read_278_response

GOLDEN = Path(__file__).parent / "golden"


def rate(label: str, work: Callable[[], object], seconds: float = 2.0) -> None:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        work()
        count += 1
    print(f"{label:<48} {count / elapsed:>9,.0f}/s")


def main() -> None:
    request = (GOLDEN / "prior-authorization.278.x12").read_bytes()
    response = (GOLDEN / "response-partially-approved.x12").read_bytes()
    rate("278 request: parse + validate", lambda: read(request))
    rate("278 response: parse + validate", lambda: read(response))

    def request_to_canonical() -> object:
        tree = read(request)[0].transactions[0].tree
        assert tree is not None
        return read_278_request(tree)

    def response_to_decision() -> object:
        tree = read(response)[0].transactions[0].tree
        assert tree is not None
        return read_278_response(tree)

    rate("278 request: parse + validate + canonical", request_to_canonical)
    rate("278 response: parse + validate + decision", response_to_decision)
    line = b"CLP*PATIENTACCOUNT0001*1*1250.00*900.00*100.00*12*CLAIM0000000001~\n"
    big = request[:106] + line * 300_000
    start = time.perf_counter()
    count = sum(1 for _ in iter_segments(io.BytesIO(big)))
    elapsed = time.perf_counter() - start
    megabytes = len(big) / elapsed / 1e6
    print(f"{'streaming segments':<48} {count / elapsed:>9,.0f}/s ({megabytes:.0f} MB/s)")


if __name__ == "__main__":
    main()
