"""A PHI canary: a fake patient with a unique name, member id, MRN, address and notes, sent
through every endpoint and every error path, must not appear in any log line, any span the
gateway made (attributes, events, status, names) or any metric label."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from connectors.sandbox import Fault
from gateway.span_export import otlp_json
from gateway.store import outbox
from tests.gateway.api.support import EXAMPLES
from tests.gateway.telemetry.conftest import ObservedGateway

TOKEN = uuid.uuid4().hex[:12]
GIVEN = f"Zyqa{TOKEN}"
FAMILY = f"Canary{TOKEN}"
MEMBER = f"CM{TOKEN}"
MRN = f"MRN{TOKEN}"
NOTES = f"{GIVEN} {FAMILY} reports knee pain since the fall at home; member {MEMBER}."


def _canary(example: str) -> dict[str, Any]:
    text = (EXAMPLES / example).read_text()
    for real, fake in (
        ("Avery", GIVEN),
        ("Testpatient", FAMILY),
        ("W123456789", MEMBER),
        ("MRN-000123", MRN),
    ):
        text = text.replace(real, fake)
    body: dict[str, Any] = json.loads(text)
    if "patient" in body:
        body["patient"]["address"] = {
            "line": [f"{TOKEN} Canary Lane"],
            "city": f"Canaryville{TOKEN}",
            "state": "IL",
            "postal_code": "62701",
        }
    return body


async def _post(api: httpx.AsyncClient, path: str, key: str, **kwargs: Any) -> int:
    response = await api.post(path, headers={"Idempotency-Key": key}, **kwargs)
    return response.status_code


async def _intake_paths(api: httpx.AsyncClient) -> list[str]:
    prior_auth = _canary("prior-authorization.json") | {"notes": NOTES}
    statuses = [
        await _post(api, "/v1/prior-authorizations", "c1", json=prior_auth),
        await _post(api, "/v1/prior-authorizations", "c1", json=prior_auth | {"notes": GIVEN}),
        await _post(api, "/v1/prior-authorizations", "c2", json=prior_auth),
        await _post(api, "/v1/prior-authorizations", "c3", json=prior_auth),
        await _post(
            api,
            "/v1/prior-authorizations",
            "c4",
            json=prior_auth | {"patient": prior_auth["patient"] | {"birth_date": NOTES}},
        ),
        await _post(
            api, "/v1/prior-authorizations", "c5", content=f'{{"notes": "{NOTES}"'.encode()
        ),
        await _post(api, "/v1/prior-authorizations", "c6", json=NOTES),
        await _post(api, "/v1/eligibility-checks", "c7", json=_canary("eligibility-check.json")),
        await _post(api, "/v1/claim-status-inquiries", "c8", json=_canary("claim-status.json")),
        await _post(
            api,
            "/v1/denial-appeals",
            "c9",
            json=_canary("denial-appeal.json") | {"appeal_reason": NOTES},
        ),
        await _post(
            api,
            "/v1/invoice-exceptions",
            "c10",
            json=_canary("invoice-exception.json") | {"supplier_name": FAMILY},
        ),
    ]
    assert statuses == [202, 422, 202, 202, 422, 400, 422, 202, 202, 202, 202]
    page = (await api.get("/v1/cases", params={"limit": 200})).json()
    return [item["id"] for item in page["items"] if item["type"] == "prior_authorization"]


async def _case_paths(api: httpx.AsyncClient, case_ids: list[str]) -> None:
    first, second = case_ids[0], case_ids[1]
    document = NOTES.encode()
    upload = {
        "kind": "09",
        "media_type": "text/plain",
        "title": NOTES[:200],
        "data": base64.b64encode(document).decode(),
    }
    results = [
        (await api.get(f"/v1/cases/{first}")).status_code,
        (await api.get(f"/v1/cases/{first}/events")).status_code,
        (await api.get(f"/v1/cases/{FAMILY}")).status_code,
        (await api.get(f"/v1/cases/{FAMILY} {GIVEN}")).status_code,
        (await api.get("/v1/cases", params={"payer": MEMBER})).status_code,
        (await api.get("/v1/cases", params={"cursor": NOTES})).status_code,
        (await api.post(f"/v1/cases/{first}/attachments", json=upload)).status_code,
        (
            await api.post(
                f"/v1/cases/{first}/attachments", json=upload | {"data": f"{NOTES} not base64"}
            )
        ).status_code,
        (await api.post(f"/v1/cases/{FAMILY}/cancel", json={"reason": NOTES})).status_code,
        (await api.post(f"/v1/cases/{second}/cancel", json={"reason": NOTES})).status_code,
    ]
    assert results[:3] == [200, 200, 404]
    assert results[3] in (400, 404)
    assert results[4:6] == [200, 400]
    assert results[6:9] == [201, 422, 404]
    assert results[9] in (200, 409)  # cancelled, or already sent by the worker


async def _auth_and_unknown_paths(api: httpx.AsyncClient) -> None:
    token_url = "/oauth/token"
    form = {"grant_type": "client_credentials", "client_id": MEMBER, "client_secret": GIVEN}
    no_auth = {"Authorization": ""}
    results = [
        (await api.post(token_url, data=form, headers=no_auth)).status_code,
        (await api.post(token_url, data=form, auth=(FAMILY, GIVEN))).status_code,
        (await api.get("/v1/cases", headers={"Authorization": f"Bearer {MEMBER}"})).status_code,
        (await api.get(f"/v1/{FAMILY}", params={"member": MEMBER})).status_code,
        (await api.get("/health/ready")).status_code,
    ]
    assert results[0] == 401
    assert results[1] in (400, 401)  # a client id in the body and another in the header
    assert results[2:4] == [401, 404]


async def _drained(observed: ObservedGateway, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with observed.live.runtime.store.connect() as conn:
            stats = await outbox.queue_stats(conn)
        if stats.pending == 0 and stats.leased == 0:
            return
        assert time.monotonic() < deadline, "the outbox did not drain"
        await asyncio.sleep(0.05)


async def test_the_canary_never_reaches_logs_spans_or_metric_labels(
    observed: ObservedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sandbox echoes request bodies in these faults, as careless payers do.
    observed.live.payer.inject(Fault.bad_request, 1)
    observed.live.payer.inject(Fault.malformed, 3)
    case_ids = await _intake_paths(observed.live.api)
    await _case_paths(observed.live.api, case_ids)
    await _auth_and_unknown_paths(observed.live.api)
    await _drained(observed)
    async with observed.live.runtime.store.connect() as conn:
        assert await outbox.list_dead(conn, 50), "no error path of the worker was taken"

    captured = capsys.readouterr()
    log_lines = captured.out.splitlines()
    events = [json.loads(line) for line in log_lines]  # every line is one JSON object
    assert "job_dead_lettered" in {event["event"] for event in events}
    assert TOKEN not in (captured.out + captured.err).lower()

    spans = observed.finished_spans()
    assert len(spans) > 20
    exported = json.dumps(otlp_json(spans))
    assert TOKEN not in exported.lower()
    assert TOKEN not in " ".join(span.name for span in spans).lower()

    data = await observed.metrics_data()
    labels = [
        str(value)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in getattr(metric.data, "data_points", [])
        for value in (point.attributes or {}).values()
    ]
    assert labels
    assert TOKEN not in " ".join(labels).lower()
