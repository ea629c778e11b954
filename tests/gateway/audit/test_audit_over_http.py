"""Through a running gateway: reads, refused tokens, missing scopes and other tenants' case ids
each leave exactly one audit entry, and a refusal changes nothing else."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from joserfc.jwk import ECKey

from canonical.cases import PriorAuthorizationRequest
from gateway.audit.export import export_since
from gateway.auth.issuer import mint_token
from gateway.auth.keys import IssuerKey, dev_client, load_or_create_issuer_key
from gateway.store.audit import list_audit, verify_chain
from gateway.store.records import AuditRow
from gateway.store.schema import case_events, cases, idempotency_keys, messages, outbox_jobs
from tests.gateway.api.support import EXAMPLES, Gateway

PA = "/v1/prior-authorizations"
CASE_ROUTE = "/v1/cases/{case_id}"


def _request(**patient: str) -> bytes:
    document = json.loads((EXAMPLES / "prior-authorization.json").read_text())
    member_id = patient.pop("member_id", None)
    document["patient"].update(patient)
    if member_id is not None:
        document["coverage"]["member_id"] = member_id
    return json.dumps(document).encode()


async def _open(gw: Gateway, body: bytes | None = None) -> str:
    response = await gw.client.post(
        PA,
        content=body or _request(),
        headers={**gw.auth(), "Idempotency-Key": secrets.token_hex(8)},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _entries(gw: Gateway) -> list[AuditRow]:
    async with gw.runtime.store.connect() as conn:
        return await list_audit(conn, limit=100_000)


async def _everything_else(gw: Gateway) -> dict[str, Any]:
    """Every row of every table but the audit log's, to show a refusal wrote nothing else."""
    async with gw.runtime.store.connect() as conn:
        return {
            table.name: sorted(
                (tuple(map(str, row)) for row in await conn.execute(sa.select(table))),
            )
            for table in (cases, case_events, messages, outbox_jobs, idempotency_keys)
        }


def _jti(token: str) -> str:
    claims = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["jti"])


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _b64(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def _bad_token(gw: Gateway, kind: str) -> str | None:
    home, auth = gw.settings.home, gw.settings.auth
    key, client, scopes = load_or_create_issuer_key(home), dev_client(home), ["cases:read"]
    if kind == "no token":
        return None
    if kind == "expired":
        return mint_token(key, auth, client, scopes, now=time.time() - 3600)
    if kind == "wrong audience":
        return mint_token(key, auth.model_copy(update={"audience": "another-api"}), client, scopes)
    if kind == "unknown kid":
        stranger = IssuerKey(private_key=ECKey.generate_key("P-384"), kid="not-ours")
        return mint_token(stranger, auth, client, scopes)
    assert kind == "alg none"
    claims = {"iss": auth.issuer, "aud": auth.audience, "sub": client.client_id, "exp": 2**31}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


async def test_reads_of_a_case_are_audited_with_who_what_and_which_patient(
    gateway: Gateway,
) -> None:
    body = _request()
    case_id = await _open(gateway, body)
    token = gateway.token_for()
    headers = gateway.auth(token)
    before = len(await _entries(gateway))
    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/events", "/v1/cases"):
        assert (await gateway.client.get(path, headers=headers)).status_code == 200
    created, *_ = await _entries(gateway)
    read, history, search = (await _entries(gateway))[before:]
    assert [(e.action, e.outcome, e.detail["event"]) for e in (read, history, search)] == [
        ("R", "0", "case.read"),
        ("R", "0", "case.events.read"),
        ("R", "0", "case.search"),
    ]
    patient = gateway.runtime.hasher.patient_ref(
        PriorAuthorizationRequest.model_validate_json(body)
    )
    for entry in (read, history):
        assert (entry.case_id, entry.patient_hash, entry.payer_id) == (case_id, patient, "ACMEHP")
    assert created.patient_hash == patient  # the read correlates with the intake
    for entry in (read, history, search):
        assert (entry.client_id, entry.token_jti) == ("casegate-dev", _jti(token))
        assert (entry.source_address, entry.purpose) == ("127.0.0.1", "HOPERAT")
    assert (search.case_id, search.patient_hash) == (None, None)
    assert search.detail["count"] == 1


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("no token", "no bearer token"),
        ("expired", "token has expired"),
        ("wrong audience", "token claim aud is not acceptable"),
        ("unknown kid", "token is signed with an unknown key"),
        ("alg none", "token algorithm is not allowed (RS256, RS384, ES384)"),
    ],
)
async def test_a_refused_token_is_a_401_and_one_audit_entry_and_nothing_else(
    gateway: Gateway, kind: str, reason: str
) -> None:
    case_id = await _open(gateway)
    token = _bad_token(gateway, kind)
    before, unchanged = await _entries(gateway), await _everything_else(gateway)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = await gateway.client.get(f"/v1/cases/{case_id}", headers=headers)
    assert response.status_code == 401
    [refusal] = (await _entries(gateway))[len(before) :]
    assert (refusal.action, refusal.outcome) == ("E", "4")
    assert (refusal.client_id, refusal.token_jti, refusal.case_id) == (None, None, None)
    assert refusal.source_address == "127.0.0.1"
    assert refusal.detail["event"] == "authn.rejected"
    assert refusal.detail["reason"] == reason
    assert (refusal.detail["method"], refusal.detail["route"]) == ("GET", CASE_ROUTE)
    if token is None:
        assert "token_sha256" not in refusal.detail
    else:
        assert refusal.detail["token_sha256"] == _fingerprint(token)
        assert token not in json.dumps(asdict(refusal), default=str)
    assert await _everything_else(gateway) == unchanged


async def test_a_missing_scope_is_a_403_and_one_audit_entry_and_nothing_else(
    gateway: Gateway,
) -> None:
    case_id = await _open(gateway)
    read_only, write_only = gateway.token_for(("cases:read",)), gateway.token_for(("cases:write",))
    before, unchanged = await _entries(gateway), await _everything_else(gateway)
    refused_read = await gateway.client.get(
        f"/v1/cases/{case_id}", headers=gateway.auth(write_only)
    )
    refused_cancel = await gateway.client.post(
        f"/v1/cases/{case_id}/cancel", headers=gateway.auth(read_only)
    )
    assert (refused_read.status_code, refused_cancel.status_code) == (403, 403)
    denied = (await _entries(gateway))[len(before) :]
    assert [(e.action, e.outcome, e.detail["event"]) for e in denied] == [
        ("E", "4", "authz.denied"),
        ("E", "4", "authz.denied"),
    ]
    assert [(e.token_jti, e.detail["token_sha256"]) for e in denied] == [
        (_jti(write_only), _fingerprint(write_only)),
        (_jti(read_only), _fingerprint(read_only)),
    ]
    assert [e.detail["required_scopes"] for e in denied] == [["cases:read"], ["cases:write"]]
    assert [e.detail["route"] for e in denied] == [CASE_ROUTE, CASE_ROUTE + "/cancel"]
    assert all(e.client_id == "casegate-dev" for e in denied)
    assert await _everything_else(gateway) == unchanged


async def test_another_tenants_case_id_is_a_404_audited_under_a_hash_and_nothing_else(
    gateway: Gateway,
) -> None:
    case_id = await _open(gateway)
    other = gateway.auth(gateway.token_for(tenant="clinic-b"))
    before, unchanged = await _entries(gateway), await _everything_else(gateway)
    attachment = {"kind": "OZ", "media_type": "text/plain", "title": "note", "data": "aGk="}
    answers = [
        await gateway.client.get(f"/v1/cases/{case_id}", headers=other),
        await gateway.client.get(f"/v1/cases/{case_id}/events", headers=other),
        await gateway.client.post(f"/v1/cases/{case_id}/cancel", headers=other),
        await gateway.client.post(
            f"/v1/cases/{case_id}/attachments", headers=other, json=attachment
        ),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404, 404], answers[3].text
    probes = (await _entries(gateway))[len(before) :]
    assert [(e.action, e.outcome) for e in probes] == [
        ("R", "4"),
        ("R", "4"),
        ("U", "4"),
        ("U", "4"),
    ]
    hashed = gateway.runtime.hasher.hash("case", case_id)
    for probe in probes:
        assert probe.detail == {"event": "case.not_found", "requested_case": hashed}
        assert (probe.client_id, probe.case_id, probe.patient_hash) == ("app-clinic-b", None, None)
        assert case_id not in json.dumps(asdict(probe), default=str)
    assert await _everything_else(gateway) == unchanged
    async with gateway.runtime.store.connect() as conn:
        assert (await verify_chain(conn)).ok


async def test_no_phi_reaches_the_audit_table_or_its_export(gateway: Gateway) -> None:
    family = f"Canaryfeather{secrets.token_hex(4)}"
    member_id = f"CANARY{secrets.randbelow(10**9):09d}"
    birth_date = "1931-07-23"
    body = _request(family=family, member_id=member_id, birth_date=birth_date)
    case_id = await _open(gateway, body)
    auth = gateway.auth()
    shown = await gateway.client.get(f"/v1/cases/{case_id}", headers=auth)
    assert family in shown.text  # the canary is really in the case the gateway holds
    await gateway.client.get(f"/v1/cases/{case_id}/events", headers=auth)
    await gateway.client.get("/v1/cases", headers=auth)
    # A member id typed where a case id belongs, and a bad request carrying the patient.
    assert (await gateway.client.get(f"/v1/cases/{member_id}", headers=auth)).status_code == 404
    bad = json.loads(body)
    bad["requesting_provider"]["npi"] = "1234567890"
    rejected = await gateway.client.post(
        PA, json=bad, headers={**auth, "Idempotency-Key": secrets.token_hex(8)}
    )
    assert rejected.status_code == 422
    entries = await _entries(gateway)
    assert len(entries) >= 6
    lines: list[str] = []
    async with gateway.runtime.store.connect() as conn:
        assert await export_since(conn, datetime(2000, 1, 1, tzinfo=UTC), lines.append) == len(
            entries
        )
    dumped = json.dumps([asdict(e) for e in entries], default=str) + "\n".join(lines)
    for canary in (family, member_id, birth_date):
        assert canary not in dumped


async def test_a_refused_client_at_the_token_endpoint_is_audited(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("casegate-dev", "not-the-secret"),
    )
    assert response.status_code == 401
    async with gateway.runtime.store.connect() as conn:
        entries = await list_audit(conn, limit=100)
    [entry] = [e for e in entries if e.detail.get("route") == "/oauth/token"]
    assert entry.outcome == "4"
    assert entry.detail["reason"] == "token endpoint: invalid_client"
    assert "not-the-secret" not in str(entry)
