"""`casegate audit verify | anchor | export`, and `casegate dlq replay` as an audited admin action,
run as an operator would, against either store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from fhir.resources.R4B.auditevent import AuditEvent

from gateway.cli import main
from gateway.store import outbox
from gateway.store.engine import Store
from gateway.store.records import NewJob
from gateway.store.schema import audit_log
from tests.gateway.audit.support import fill, forge_from, rows, tamper


@pytest.fixture
def operator_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CASEGATE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CASEGATE_DATABASE_URL", database_url)
    monkeypatch.delenv("CASEGATE_CONFIG", raising=False)
    return tmp_path


async def casegate(*args: str) -> Result:
    """The command in a thread of its own: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def test_verify_reports_an_intact_trail(store: Store, operator_env: Path) -> None:
    await fill(store, 5)
    result = await casegate("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "audit trail intact: 5 entries"


async def test_verify_names_the_first_changed_entry_and_exits_1(
    store: Store, operator_env: Path
) -> None:
    await fill(store, 5)
    await tamper(store, sa.update(audit_log).where(audit_log.c.id == 2).values(outcome="0 "))
    result = await casegate("audit", "verify")
    assert result.exit_code == 1
    assert "audit trail BROKEN at entry 2: entry 2 was changed" in result.stderr
    assert "1 entries verified intact before it" in result.stderr


async def test_an_anchor_catches_a_forged_tail_and_refuses_to_bless_it(
    store: Store, operator_env: Path
) -> None:
    await fill(store, 5)
    anchor_file = operator_env / "audit.anchor"
    anchored = await casegate("audit", "anchor", str(anchor_file))
    assert anchored.exit_code == 0, anchored.output
    assert anchored.stdout.startswith(f"anchored entry 5 (hash {(await rows(store))[-1].hash[:16]}")
    written = anchor_file.read_text()
    assert json.loads(written)["last_id"] == 5

    await fill(store, 2)
    assert (await casegate("audit", "verify", "--anchor", str(anchor_file))).exit_code == 0
    await forge_from(store, 5, client_id="someone-innocent")
    assert (await casegate("audit", "verify")).exit_code == 0  # the chain alone is fooled
    caught = await casegate("audit", "verify", "--anchor", str(anchor_file))
    assert caught.exit_code == 1
    assert "BROKEN at entry 5: entry 5 does not match the anchor" in caught.stderr
    refused = await casegate("audit", "anchor", str(anchor_file))
    assert refused.exit_code == 1
    assert "not anchored: the audit trail is broken" in refused.stderr
    assert anchor_file.read_text() == written


async def test_a_bad_anchor_file_is_a_usage_error_naming_it(
    store: Store, operator_env: Path
) -> None:
    await fill(store, 1)
    garbage = operator_env / "garbage.anchor"
    garbage.write_text("{not json")
    for path in (garbage, operator_env / "absent.anchor"):
        result = await casegate("audit", "verify", "--anchor", str(path))
        assert result.exit_code == 2
        assert str(path) in result.stderr
        assert "Traceback" not in result.output


async def test_export_writes_audit_event_lines_and_is_itself_audited(
    store: Store, operator_env: Path
) -> None:
    await fill(store, 3)
    result = await casegate("audit", "export", "--since", "2000-01-01")
    assert result.exit_code == 0, result.output
    events = [AuditEvent.model_validate_json(line) for line in result.stdout.splitlines()]
    assert [e.id for e in events] == ["1", "2", "3"]
    assert result.stderr.strip() == "exported 3 audit event(s)"
    export_entry = (await rows(store))[-1]
    assert export_entry.detail["event"] == "audit.export"
    assert export_entry.detail["exported"] == 3
    assert export_entry.client_id is not None and export_entry.client_id.startswith("cli:")

    out = operator_env / "audit.ndjson"
    since = datetime.now(UTC).isoformat()
    to_file = await casegate("audit", "export", "--since", since, "--out", str(out))
    assert to_file.exit_code == 0, to_file.output
    assert to_file.stdout == ""
    assert out.read_text() == ""  # only entries recorded from `since` on: none yet


async def test_export_refuses_a_since_that_is_not_a_date(operator_env: Path) -> None:
    result = await casegate("audit", "export", "--since", "last tuesday")
    assert result.exit_code == 2
    assert "expected an ISO 8601 date" in result.stderr


async def test_an_unmigrated_database_is_one_line_not_a_traceback(operator_env: Path) -> None:
    result = await casegate("audit", "verify")
    assert result.exit_code == 1
    assert "casegate db upgrade" in result.stderr
    assert "Traceback" not in result.output


async def test_an_unreachable_store_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEGATE_HOME", str(tmp_path))
    monkeypatch.setenv("CASEGATE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/none")
    result = await casegate("audit", "verify")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the store: ")
    assert "Traceback" not in result.output


async def test_a_dead_letter_replay_is_audited_with_its_job_ids(
    store: Store, operator_env: Path
) -> None:
    async with store.begin() as conn:
        for _ in range(2):
            await outbox.enqueue(conn, NewJob("case.send", None, None, {}, {}, datetime.now(UTC)))
    jobs = await outbox.claim_jobs(store, "w", 2, 30)
    async with store.begin() as conn:
        for job in jobs:
            await outbox.dead_letter(conn, job.id, "w", "payer said 400")
    first, second = sorted(job.id for job in jobs)

    one = await casegate("dlq", "replay", str(second))
    assert one.stdout.strip() == "replayed 1 job(s)"
    every = await casegate("dlq", "replay", "--all")
    assert every.stdout.strip() == "replayed 1 job(s)"
    none = await casegate("dlq", "replay", "--all")
    assert none.stdout.strip() == "replayed 0 job(s)"
    replays = [r for r in await rows(store) if r.detail.get("event") == "dlq.replay"]
    assert [(r.detail["requested"], r.detail["job_ids"]) for r in replays] == [
        (second, [second]),
        ("all", [first]),
        ("all", []),
    ]
    assert all((r.action, r.outcome, r.purpose) == ("E", "0", "HSYSADMIN") for r in replays)
    assert (await casegate("audit", "verify")).exit_code == 0


async def test_unwritable_targets_are_one_line_errors(store: Store, operator_env: Path) -> None:
    await fill(store, 1)
    nowhere = operator_env / "missing-dir" / "out"
    export = await casegate("audit", "export", "--since", "2000-01-01", "--out", str(nowhere))
    assert export.exit_code == 2
    assert f"{nowhere}: No such file or directory" in export.stderr
    anchor = await casegate("audit", "anchor", str(nowhere))
    assert anchor.exit_code == 2
    assert f"{nowhere}: cannot write the anchor (No such file or directory)" in anchor.stderr
    for result in (export, anchor):
        assert "Traceback" not in result.output
