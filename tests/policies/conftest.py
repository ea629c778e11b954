"""Builders for the policy tests: a small valid pack to break on purpose, and canonical cases."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canonical.cases import CaseType
from policies import SHIPPED_PACKS
from policies.book import PolicyBook
from policies.decision import PolicyCase
from policies.pack_directory import PackDirectory

RECEIVED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

HEADER = """\
id: test
payer: TESTPAYER
name: Test payer
version: "1.0"
"""

TAIL = """\
    - id: PA-NONE
      then: {required: false}
      why: Everything else.
  routing:
    - id: ROUTE
      then:
        channels: [{channel: x12_278}]
      why: The only channel.
"""


def pack_text(rows: str = "", *, tables: str = "", extra: str = "") -> str:
    """A valid pack whose prior_auth table starts with `rows`, with more `tables` and `extra`
    top-level fields (each YAML as written in the test, re-indented here)."""
    return (
        f"{HEADER}tables:\n  prior_auth:\n{_indented(rows, 4)}{TAIL}{_indented(tables, 2)}"
        f"{_indented(extra, 0)}"
    )


EXAMPLES_BASE = """\
examples:
  base:
    patient: {given: A, family: B, birth_date: 1970-01-01}
    coverage: {member_id: M1}
    payer: {id: TESTPAYER, name: Test}
    requesting_provider: {npi: "1260181593", name: Clinician}
    diagnoses: [{code: M17.11}]
    service_lines:
      - {sequence: 1, procedure_code: "27447", service_period: {start: 2026-04-06}}
  cases:
"""


def examples(cases: str) -> str:
    """A pack's `examples`: a knee replacement for TESTPAYER as the base, then these `cases`."""
    return EXAMPLES_BASE + _indented(cases, 4)


def _indented(text: str, width: int) -> str:
    body = textwrap.dedent(text).strip("\n")
    return textwrap.indent(body, " " * width) + "\n" if body else ""


def payload(payer: str = "ACMEHP", **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "urgency": "standard",
        "patient": {"given": "Avery", "family": "Testperson", "birth_date": "1970-01-01"},
        "coverage": {"member_id": "W000000001"},
        "payer": {"id": payer, "name": f"{payer} plan"},
        "requesting_provider": {"npi": "1260181593", "name": "Demo Ordering Clinician"},
        "diagnoses": [{"code": "M17.11"}],
        "service_lines": [line("27447", "22")],
    }
    document.update(overrides)
    return document


def line(code: str, place: str | None = None, sequence: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "procedure_code": code,
        "place_of_service": place,
        "service_period": {"start": "2026-04-06"},
        **extra,
    }


def case(
    document: dict[str, Any],
    case_type: CaseType = CaseType.prior_authorization,
    received_at: datetime = RECEIVED,
    **signals: Any,
) -> PolicyCase:
    return PolicyCase.of(case_type, document, received_at, **signals)


@pytest.fixture(scope="session")
def shipped_book() -> PolicyBook:
    directory = PackDirectory([SHIPPED_PACKS])
    report = directory.reload()
    assert not report.refused, [str(event) for event in report.refused]
    return directory.book


@pytest.fixture
def write_pack(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "pack.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
