"""`casegate demo --trace-out FILE` leaves an OTLP/JSON file a trace viewer can load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main


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
    intakes = [s for s in spans if s["name"] == "case.intake"]
    sends = [s for s in spans if s["name"] == "case.send"]
    assert len(intakes) == 4
    assert {s["traceId"] for s in sends} == {s["traceId"] for s in intakes}
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in spans)
    resource_keys = {a["key"] for a in document["resourceSpans"][0]["resource"]["attributes"]}
    assert "service.name" in resource_keys
