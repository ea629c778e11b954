"""`casegate policy test` and `casegate policy explain`, run as a pack author runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from policies import SHIPPED_PACKS
from tests.policies.conftest import examples, pack_text, payload

EXAMPLE_CASE = Path(__file__).parents[2] / "examples" / "prior-authorization.json"
EXAMPLES = examples("""
- name: knee replacement needs nothing here
  received_at: 2026-03-02T09:00:00Z
  expect: {auth_required: false, fired: [PA-NONE, ROUTE]}
- name: this expectation is wrong
  received_at: 2026-03-02T09:00:00Z
  expect: {auth_required: true, route: ["channel:fhir_pas"]}
""")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["policy", *args])
    return result.exit_code, result.stdout, result.stderr


def test_policy_test_runs_every_shipped_example_one_line_each() -> None:
    code, out, _ = run("test")
    lines = out.splitlines()
    examples = [line for line in lines if line.startswith(("ok ", "FAIL"))]
    assert code == 0, out
    assert len(examples) >= 20 and all(line.startswith("ok ") for line in examples)
    assert {line.split()[1] for line in examples} == {"acmehp", "bluemesa", "default", "suncoast"}
    assert lines[-1] == f"{len(examples)} passed, 0 failed"


def test_policy_test_selects_a_pack_by_payer_or_id() -> None:
    code, out, _ = run("test", "bluemesa")
    assert code == 0
    assert {line.split()[1] for line in out.splitlines()[:-1]} == {"bluemesa"}
    code, out, _ = run("test", "SUNCOAST")
    assert code == 0 and "suncoast" in out


def test_policy_test_fails_on_a_wrong_expectation_and_says_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "test.yaml"
    path.write_text(pack_text(extra=EXAMPLES))
    code, out, _ = run("test", str(path))
    assert code == 1
    first, second, summary = out.splitlines()
    assert first.startswith("ok   test 1.0 test.yaml:")
    assert second.startswith("FAIL test 1.0 test.yaml:")
    assert second.endswith(
        "this expectation is wrong: auth_required: expected true, got false;"
        " route: expected [channel:fhir_pas], got [channel:x12_278]"
    )
    assert summary == "1 passed, 1 failed"


def test_policy_test_reports_a_pack_that_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(pack_text().replace("x12_278", "carrier_pigeon"))
    code, out, _ = run("test", str(tmp_path))
    assert code == 1
    assert out.splitlines()[0] == (
        "FAIL bad.yaml:13: tables.routing.0.then.channels.0.channel: Input should be"
        " 'fhir_pas', 'x12_278' or 'payer_rest'"
    )


def test_policy_test_without_examples_fails(tmp_path: Path) -> None:
    (tmp_path / "bare.yaml").write_text(pack_text())
    code, out, _ = run("test", str(tmp_path / "bare.yaml"))
    assert (code, out.splitlines()[0]) == (
        1,
        "FAIL test 1.0 bare.yaml: the pack has no examples",
    )


def test_policy_test_of_an_unknown_pack_is_a_usage_error() -> None:
    code, _, err = run("test", "nosuchpayer")
    assert code == 2
    assert "no pack file or pack 'nosuchpayer'" in err


def test_policy_explain_prints_the_decision_and_why_each_rule_fired() -> None:
    code, out, _ = run("explain", str(EXAMPLE_CASE), "--received-at", "2026-03-02T15:00:00Z")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("pack acmehp 2026.3.1 (sha256 ")
    assert lines[1:4] == [
        "prior authorization: required (lines 1)",
        "complete: yes",
        "route: channel:fhir_pas -> channel:x12_278",
    ]
    assert (
        "decision due: 2026-03-09T14:00:00+00:00 (7 calendar days, CMS-0057-F, standard)" in lines
    )
    assert "  ACME-PA-JOINT  prior_auth  line 1  acmehp.yaml:38" in lines
    assert (
        "    procedure in 27130, 27447 (case: 27447) -> prior authorization required. Hip and knee"
        " replacement are reviewed against Acme's joint surgery criteria."
    ) in lines


def test_policy_explain_reads_an_envelope_and_prints_json(tmp_path: Path) -> None:
    envelope = {
        "case_type": "prior_authorization",
        "payload": payload("BLUEMESA", urgency="expedited"),
        "received_at": "2026-03-07T20:00:00Z",
        "confidence": 0.5,
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(envelope))
    code, out, _ = run("explain", str(path), "--json", "--packs", str(SHIPPED_PACKS))
    assert code == 0, out
    decision = json.loads(out)
    assert decision["pack_id"] == "bluemesa"
    assert decision["sla"]["due_at"] == "2026-03-09T20:00:00Z"
    assert {h["hold"] for h in decision["hold_reasons"]} >= {"low_confidence"}


def test_policy_explain_names_each_bad_field(tmp_path: Path) -> None:
    bad = payload()
    bad["diagnoses"] = [{"code": "17.11"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, _, err = run("explain", str(path))
    assert code == 1
    assert err.splitlines()[0] == "error: the case is not valid"
    assert "  /diagnoses/0/code: Value error, not an ICD-10-CM code" in err


def test_policy_explain_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text("MSH|^~\\&|")
    code, _, err = run("explain", str(path))
    assert code == 1
    assert err.startswith("error: the case file is not JSON")


def test_policy_explain_stops_when_a_pack_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: [\n")
    code, _, err = run("explain", str(EXAMPLE_CASE), "--packs", str(tmp_path))
    assert code == 1
    assert "bad.yaml:2: YAML syntax error" in err
