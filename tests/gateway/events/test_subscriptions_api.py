"""The subscriptions API and the published catalog, against a running gateway (workers off)."""

from __future__ import annotations

from typing import Any

from canonical.event_catalog import EventType
from connectors.secrets import SecretRef
from gateway.auth.issuer import mint_token
from gateway.auth.keys import load_or_create_issuer_key
from gateway.auth.settings import ClientSettings
from gateway.store.subscriptions import list_deliveries
from tests.gateway.api.support import EXAMPLES, Gateway

ADMIN = ("admin",)
HOOK = {"kind": "webhook", "url": "https://erp.example/hooks/casegate"}


def _other_tenant_token(gateway: Gateway) -> str:
    key = load_or_create_issuer_key(gateway.settings.home)
    client = ClientSettings(
        client_id="app-other",
        tenant="other",
        scopes=["admin", "cases:write"],
        secret=SecretRef("env:UNUSED_IN_TESTS"),
    )
    return mint_token(key, gateway.settings.auth, client, ["admin", "cases:write"])


async def _create(gateway: Gateway, body: dict[str, Any], scopes: tuple[str, ...] = ADMIN) -> Any:
    return await gateway.client.post(
        "/v1/subscriptions", json=body, headers=gateway.auth(gateway.token_for(scopes))
    )


async def test_unknown_event_type_is_refused_with_a_pointer(gateway: Gateway) -> None:
    body = {"event_types": ["authorization.approved", "authorization.teleported"], "target": HOOK}
    response = await _create(gateway, body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["pointer"] for e in problem["errors"]] == ["/event_types/1"]
    assert "teleported" not in response.text  # the refused value is not echoed


async def test_bad_targets_are_refused_where_they_are_wrong(gateway: Gateway) -> None:
    cases = {
        "/target/url": {"kind": "webhook", "url": "http://erp.example/hooks"},
        "/target/instance": {"kind": "connector", "instance": "erp"},
    }
    for pointer, target in cases.items():
        response = await _create(gateway, {"event_types": ["case.opened"], "target": target})
        assert response.status_code == 422, response.text
        assert pointer in [e["pointer"] for e in response.json()["errors"]]
    async with gateway.runtime.store.connect() as conn:
        assert await list_deliveries(conn, "none", status=None, after_id=None, limit=5) == []


async def test_create_read_list_delete(gateway: Gateway) -> None:
    body = {
        "event_types": ["authorization.approved", "authorization.denied", "authorization.approved"],
        "filter": {"payers": ["ACMEHP"]},
        "target": HOOK,
        "description": "procurement checkpoint",
    }
    created = await _create(gateway, body, ("subscriptions:write",))
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["event_types"] == ["authorization.approved", "authorization.denied"]
    assert subscription["secret"].startswith("whsec_")
    path = f"/v1/subscriptions/{subscription['id']}"
    admin = gateway.auth(gateway.token_for(ADMIN))
    read = (await gateway.client.get(path, headers=admin)).json()
    assert "secret" not in read
    assert read["target"] == {**HOOK, "instance": None}
    listed = (await gateway.client.get("/v1/subscriptions", headers=admin)).json()
    assert [s["id"] for s in listed["items"]] == [subscription["id"]]
    assert (await gateway.client.delete(path, headers=admin)).status_code == 204
    assert (await gateway.client.get(path, headers=admin)).status_code == 404
    assert (await gateway.client.delete(path, headers=admin)).status_code == 404


async def test_case_scopes_alone_cannot_subscribe(gateway: Gateway) -> None:
    response = await _create(
        gateway, {"event_types": ["case.opened"], "target": HOOK}, ("cases:read", "cases:write")
    )
    assert response.status_code == 403
    assert response.json()["type"].endswith("insufficient-scope")


async def test_another_tenants_subscription_is_not_found_and_not_fed(gateway: Gateway) -> None:
    ours = (await _create(gateway, {"event_types": ["case.opened"], "target": HOOK})).json()
    other = {"Authorization": f"Bearer {_other_tenant_token(gateway)}"}
    path = f"/v1/subscriptions/{ours['id']}"
    assert (await gateway.client.get(path, headers=other)).status_code == 404
    assert (await gateway.client.delete(path, headers=other)).status_code == 404
    assert (await gateway.client.post(f"{path}/rotate-secret", headers=other)).status_code == 404
    listed = (await gateway.client.get("/v1/subscriptions", headers=other)).json()
    assert listed["items"] == []
    # The other tenant's case owes our subscription nothing; our own case does.
    body = (EXAMPLES / "prior-authorization.json").read_bytes()
    for headers, key in ((other, "t-other"), (gateway.auth(), "t-ours")):
        submitted = await gateway.client.post(
            "/v1/prior-authorizations",
            content=body,
            headers={**headers, "Idempotency-Key": key, "Content-Type": "application/json"},
        )
        assert submitted.status_code == 202
    async with gateway.runtime.store.connect() as conn:
        owed = await list_deliveries(conn, ours["id"], status=None, after_id=None, limit=10)
    assert [(d.event_type, d.seq, d.status) for d in owed] == [("case.opened", 1, "pending")]


async def test_the_catalog_is_published_as_json_schema(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/events/schema", headers=gateway.auth())
    assert response.status_code == 200
    schema = response.json()
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["x-event-types"]) == {t.value for t in EventType}
    assert set(schema["discriminator"]["mapping"]) == {t.value for t in EventType}
    approved = schema["$defs"]["AuthorizationApproved"]
    assert approved["properties"]["type"]["const"] == "authorization.approved"
    openapi = (await gateway.client.get("/schema/openapi.json")).json()
    assert "/v1/events/schema" in openapi["paths"]
    assert "/v1/subscriptions/{subscription_id}/rotate-secret" in openapi["paths"]
