"""`casegate policy`: run the packs' own examples, and explain how a case would be decided.

Both commands read pack files only; neither needs settings, a database or a running gateway,
so a pack author can use them on a laptop before opening a pull request.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from canonical.cases import CaseType
from policies import SHIPPED_PACKS
from policies.decision import PolicyCase
from policies.errors import NoPackForPayer, PackRejected
from policies.example_runs import run_examples
from policies.explain import explain as explanation_lines
from policies.pack import Pack, load_pack
from policies.pack_directory import PACK_SUFFIXES, PackDirectory

_PACKS_OPTION = click.option(
    "--packs",
    "packs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SHIPPED_PACKS,
    show_default="the shipped packs",
    help="Directory of pack files.",
)


class CaseDocument(BaseModel):
    """A case file for `explain`: the canonical envelope, plus what intake measured."""

    model_config = ConfigDict(extra="forbid")

    case_type: CaseType = CaseType.prior_authorization
    payload: dict[str, Any]
    received_at: AwareDatetime | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    estimated_amount: Decimal | None = Field(default=None, ge=0)


@click.group()
def policy() -> None:
    """Policy packs: test them against their own examples, explain a decision."""


@policy.command("test")
@click.argument("pack", required=False)
@_PACKS_OPTION
def test_packs(pack: str | None, packs_dir: Path) -> None:
    """Run the examples of PACK (a file, a directory, or a pack id or payer in --packs), or of
    every pack when PACK is omitted. One line per example; exits 1 if anything fails."""
    failures = passes = 0
    for path in _selected(pack, packs_dir):
        try:
            loaded = load_pack(path)
        except PackRejected as rejected:
            failures += 1
            for error in rejected.errors:
                click.echo(f"FAIL {error}")
            continue
        outcomes = run_examples(loaded)
        if not outcomes:
            failures += 1
            click.echo(f"FAIL {loaded.id} {loaded.version} {path.name}: the pack has no examples")
        for outcome in outcomes:
            click.echo(str(outcome))
            passes += outcome.passed
            failures += not outcome.passed
    click.echo(f"{passes} passed, {failures} failed")
    sys.exit(1 if failures else 0)


def _selected(pack: str | None, packs_dir: Path) -> list[Path]:
    if pack is None:
        return _files(packs_dir)
    given = Path(pack)
    if given.is_dir():
        return _files(given)
    if given.is_file():
        return [given]
    matches = [path for path, found in _loadable(packs_dir) if pack.lower() in _names(found)]
    if not matches:
        known = ", ".join(sorted(found.id for _, found in _loadable(packs_dir)))
        raise click.UsageError(f"no pack file or pack '{pack}' in {packs_dir} (known: {known})")
    return matches


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in PACK_SUFFIXES and p.is_file())


def _loadable(directory: Path) -> list[tuple[Path, Pack]]:
    found = []
    for path in _files(directory):
        try:
            found.append((path, load_pack(path)))
        except PackRejected:
            continue
    return found


def _names(pack: Pack) -> set[str]:
    return {pack.id.lower(), pack.payer.lower()}


@policy.command()
@click.argument("case_file", type=click.File("rb"))
@_PACKS_OPTION
@click.option("--received-at", help="ISO 8601 time with offset; default: the file's, else now.")
@click.option("--confidence", type=click.FloatRange(0, 1), help="Intake's confidence (0..1).")
@click.option("--estimated-amount", help="Expected cost in dollars.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def explain(
    *,
    case_file: IO[bytes],
    packs_dir: Path,
    received_at: str | None,
    confidence: float | None,
    estimated_amount: str | None,
    as_json: bool,
) -> None:
    """Decide CASE_FILE (a canonical case, or an envelope with case_type and payload; - reads
    stdin) and print the decision with every rule that fired and why."""
    case = _case(case_file.read(), received_at, confidence, estimated_amount)
    directory = PackDirectory([packs_dir], check_examples=False)
    report = directory.reload()
    if report.refused:
        for event in report.refused:
            click.echo(f"error: {event}", err=True)
        sys.exit(1)
    try:
        decision = directory.book.decide(case)
    except NoPackForPayer as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(decision.model_dump_json(indent=2))
    else:
        for line in explanation_lines(decision):
            click.echo(line)


def _case(
    data: bytes, received_at: str | None, confidence: float | None, estimated_amount: str | None
) -> PolicyCase:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail("the case file is not JSON", [f"{type(exc).__name__}: {exc}"])
    if not (isinstance(document, dict) and "payload" in document):
        document = {"payload": document}
    overrides: dict[str, Any] = {
        "received_at": received_at,
        "confidence": confidence,
        "estimated_amount": estimated_amount,
    }
    document.update({key: value for key, value in overrides.items() if value is not None})
    try:
        envelope = CaseDocument.model_validate(document)
        return PolicyCase.of(
            envelope.case_type,
            envelope.payload,
            envelope.received_at or datetime.now(UTC),
            confidence=envelope.confidence,
            estimated_amount=envelope.estimated_amount,
        )
    except ValidationError as exc:
        _fail(
            "the case is not valid",
            [
                f"/{'/'.join(str(step) for step in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)
            ],
        )


def _fail(summary: str, details: list[str]) -> NoReturn:
    click.echo(f"error: {summary}", err=True)
    for detail in details:
        click.echo(f"  {detail}", err=True)
    sys.exit(1)
