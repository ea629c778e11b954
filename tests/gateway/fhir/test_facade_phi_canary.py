"""A PHI canary through the facade: a patient with a unique name, member id and birth date,
in accepted bundles, refused ones and inquiries, must not appear in any log line, error
text kept with a refused body, audit entry, or OperationOutcome."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.store import cases
from gateway.store.schema import audit_log
from tests.gateway.fhir.facade_fixtures import Facade, facade, payer
from tests.gateway.fhir.facade_support import FHIR, ehr_bundle, resource

FIXTURES = (facade, payer)  # the running gateway and payer sandbox these tests use
TOKEN = uuid.uuid4().hex[:12]
GIVEN = f"Zyqa{TOKEN}"
FAMILY = f"Canary{TOKEN}"
MEMBER = f"CM{TOKEN}"


def _canary(claim: str) -> dict[str, Any]:
    bundle = ehr_bundle(claim)
    patient = resource(bundle, "Patient")
    patient["name"] = [{"family": FAMILY, "given": [GIVEN]}]
    coverage = resource(bundle, "Coverage")
    coverage["subscriberId"] = MEMBER
    coverage["identifier"][0]["value"] = MEMBER
    return bundle


async def test_the_canary_stays_out_of_logs_errors_and_audit(
    facade: Facade, capsys: pytest.CaptureFixture[str]
) -> None:
    accepted = await facade.submit(_canary("PHI-1"))
    assert accepted.status_code == 200
    bad_date = _canary("PHI-2")
    resource(bad_date, "Patient")["birthDate"] = f"{GIVEN}-01-01"
    bad_gender = _canary("PHI-3")
    resource(bad_gender, "Patient")["gender"] = FAMILY
    bad_use = _canary("PHI-4")
    bad_use["entry"][0]["resource"]["use"] = MEMBER
    bad_npi = _canary("PHI-5")
    provider = bad_npi["entry"][0]["resource"]["provider"]["reference"]
    [organization] = [e["resource"] for e in bad_npi["entry"] if e["fullUrl"] == provider]
    organization["identifier"][0]["value"] = "12345"
    bad_member = _canary("PHI-6")
    resource(bad_member, "Coverage")["subscriberId"] = f"{MEMBER} {GIVEN}!"
    outcomes = []
    for bundle in (bad_date, bad_use):
        answer = await facade.submit(bundle)
        assert answer.status_code in (400, 422), answer.text
        outcomes.append(answer.text)
    for bundle in (bad_gender, bad_npi, bad_member):
        answer = await facade.submit(bundle)
        assert answer.status_code == 200
        outcomes.append(json.dumps(resource(answer.json(), "OperationOutcome")))
    raw = f'{{"resourceType": "Bundle", "note": "{GIVEN} {FAMILY}"'.encode()
    answer = await facade.api.post("/fhir/Claim/$submit", content=raw, headers=FHIR)
    assert answer.status_code == 400
    outcomes.append(answer.text)
    inquiry = await facade.api.post("/fhir/Claim/$inquire", json=_canary("PHI-1"), headers=FHIR)
    assert inquiry.status_code == 200

    assert TOKEN not in " ".join(outcomes).lower()
    captured = capsys.readouterr()
    assert TOKEN not in (captured.out + captured.err).lower()
    async with facade.runtime.store.connect() as conn:
        kept = await cases.list_messages(
            conn, facade.runtime.store.cipher, errors_only=True, limit=20
        )
        details = [row.detail for row in await conn.execute(sa.select(audit_log))]
        page = await cases.list_cases(conn, "default", limit=20)
        events = [await cases.list_events(conn, row.id) for row in page]
    assert len(kept) == 3
    assert TOKEN not in " ".join(m.error or "" for m in kept).lower()
    assert TOKEN in b"".join(m.body for m in kept).decode().lower()  # the bodies are kept whole
    assert TOKEN not in json.dumps(details).lower()
    assert TOKEN not in json.dumps([e.data for history in events for e in history]).lower()
