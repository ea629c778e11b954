"""`casegate demo --trace-out FILE` leaves an OTLP/JSON file a trace viewer can load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

INTAKE_SPANS = {"case.intake", "fhir.submit", "hl7.intake"}


def test_demo_writes_its_spans_as_otlp_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEGATE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CASEGATE_CONFIG", raising=False)
    monkeypatch.delenv("CASEGATE_DATABASE_URL", raising=False)
    out = tmp_path / "traces" / "demo.json"

    result = CliRunner().invoke(
        main, ["demo", "--cases", "4", "--concurrency", "2", "--trace-out", str(out)]
    )

    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    spans = [
        span
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    # Cases enter through /v1, the PAS facade or HL7; each way starts the case's trace.
    intakes = [s for s in spans if s["name"] in INTAKE_SPANS]
    sends = [s for s in spans if s["name"] == "case.send"]
    assert any(s["name"] == "case.intake" for s in intakes)
    # A case the policy packs hold for a person is not sent: each send continues an intake.
    assert sends
    assert {s["traceId"] for s in sends} <= {s["traceId"] for s in intakes}
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in spans)
    resource_keys = {a["key"] for a in document["resourceSpans"][0]["resource"]["attributes"]}
    assert "service.name" in resource_keys
