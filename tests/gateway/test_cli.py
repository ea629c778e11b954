import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.auth.keys import load_or_create_issuer_key
from gateway.auth.verifier import TokenVerifier
from gateway.cli import main
from gateway.settings import load_settings
from gateway.store import outbox
from gateway.store.cipher import load_data_key
from gateway.store.engine import open_store
from gateway.store.records import NewJob

EXAMPLE = Path(__file__).parents[2] / "examples" / "prior-authorization.json"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CASEGATE_HOME", str(tmp_path))
    monkeypatch.delenv("CASEGATE_CONFIG", raising=False)
    monkeypatch.delenv("CASEGATE_DATABASE_URL", raising=False)
    return tmp_path


def test_convert_canonical_prints_the_normal_form() -> None:
    result = CliRunner().invoke(
        main, ["convert", str(EXAMPLE), "--from", "canonical", "--to", "canonical"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["case_type"] == "prior_authorization"
    assert document["payload"]["diagnoses"][0]["code"] == "M17.11"


def test_convert_names_each_bad_field_and_exits_1(tmp_path: Path) -> None:
    bad = json.loads(EXAMPLE.read_text())
    bad["requesting_provider"]["npi"] = "1260181594"
    bad["diagnoses"][0]["code"] = "17.11"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = CliRunner().invoke(
        main, ["convert", str(path), "--from", "canonical", "--to", "canonical"]
    )
    assert result.exit_code == 1
    assert "/requesting_provider/npi: not a valid NPI" in result.stderr
    assert "/diagnoses/0/code: not an ICD-10-CM code" in result.stderr


def test_convert_unknown_formats_exit_1() -> None:
    result = CliRunner().invoke(
        main, ["convert", str(EXAMPLE), "--from", "canonical", "--to", "morse"]
    )
    assert result.exit_code == 1
    assert "no conversion from canonical to morse" in result.stderr


def test_db_upgrade_and_connectors_list(home: Path) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    assert (home / "casegate.db").exists()
    listed = CliRunner().invoke(main, ["connectors", "list"])
    assert listed.exit_code == 0
    rows = dict(line.split("\t", 1) for line in listed.stdout.splitlines())
    assert "prior_auth.submit" in rows["payer_rest"]
    assert "erp.lookup" in rows["erp"]


def test_token_is_accepted_by_the_gateways_verifier(home: Path) -> None:
    result = CliRunner().invoke(main, ["token"])
    assert result.exit_code == 0, result.output
    settings = load_settings()
    verifier = TokenVerifier.from_settings(settings.auth, load_or_create_issuer_key(home))
    principal = asyncio.run(verifier.verify(result.stdout.strip()))
    assert principal.client_id == "casegate-dev"
    assert principal.scopes == {"cases:read", "cases:write"}


def test_dlq_list_and_replay(home: Path) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0

    async def dead_job() -> int:
        settings = load_settings()
        store = await open_store(settings.resolved_database_url, load_data_key(home, None))
        try:
            async with store.begin() as conn:
                await outbox.enqueue(
                    conn,
                    NewJob("case.send", None, None, {}, {}, datetime.now(UTC)),
                )
            [job] = await outbox.claim_jobs(store, "w", 1, 30)
            async with store.begin() as conn:
                await outbox.dead_letter(conn, job.id, "w", "payer said 400")
            return job.id
        finally:
            await store.close()

    job_id = asyncio.run(dead_job())
    listed = CliRunner().invoke(main, ["dlq", "list"])
    assert listed.stdout.startswith(f"{job_id}\tcase.send")
    assert "payer said 400" in listed.stdout
    usage = CliRunner().invoke(main, ["dlq", "replay"])
    assert usage.exit_code == 2
    replayed = CliRunner().invoke(main, ["dlq", "replay", str(job_id)])
    assert replayed.stdout.strip() == "replayed 1 job(s)"
    assert CliRunner().invoke(main, ["dlq", "list"]).stdout == ""
