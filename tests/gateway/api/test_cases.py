import base64
import json

import pytest

from tests.gateway.api.support import EXAMPLES, Gateway

PA = "/v1/prior-authorizations"


async def _open(gw: Gateway, key: str, token: str | None = None) -> str:
    response = await gw.client.post(
        PA,
        content=(EXAMPLES / "prior-authorization.json").read_bytes(),
        headers={**gw.auth(token), "Idempotency-Key": key},
    )
    assert response.status_code == 202
    return str(response.json()["id"])


async def test_another_tenants_case_is_not_found(gateway: Gateway) -> None:
    case_id = await _open(gateway, "a")
    other = gateway.token_for(tenant="clinic-b")
    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/events"):
        response = await gateway.client.get(path, headers=gateway.auth(other))
        assert response.status_code == 404
        assert response.json()["detail"] == "no such case"
    cancel = await gateway.client.post(f"/v1/cases/{case_id}/cancel", headers=gateway.auth(other))
    assert cancel.status_code == 404
    listed = await gateway.client.get("/v1/cases", headers=gateway.auth(other))
    assert listed.json()["items"] == []


async def test_cursor_pagination_visits_every_case_once(gateway: Gateway) -> None:
    opened = [await _open(gateway, f"k{i}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await gateway.client.get("/v1/cases", params=params, headers=gateway.auth())).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == opened
    assert all("payload" not in item for item in page["items"])


async def test_filters(gateway: Gateway) -> None:
    case_id = await _open(gateway, "k")
    auth = gateway.auth()
    by_status = await gateway.client.get("/v1/cases?status=draft&payer=ACMEHP", headers=auth)
    assert [c["id"] for c in by_status.json()["items"]] == [case_id]
    none = await gateway.client.get("/v1/cases?status=approved", headers=auth)
    assert none.json()["items"] == []
    wrong_type = await gateway.client.get("/v1/cases?type=eligibility_check", headers=auth)
    assert wrong_type.json()["items"] == []


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=1000", "status=bogus", "cursor=%%%", "cursor=01ABCDEFGHJKMNPQRSTVWXYZ0U"],
)
async def test_bad_list_parameters_are_400_problems(gateway: Gateway, query: str) -> None:
    response = await gateway.client.get(f"/v1/cases?{query}", headers=gateway.auth())
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_cancel_then_cancel_again_is_an_illegal_transition(gateway: Gateway) -> None:
    case_id = await _open(gateway, "k")
    first = await gateway.client.post(f"/v1/cases/{case_id}/cancel", headers=gateway.auth())
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    again = await gateway.client.post(f"/v1/cases/{case_id}/cancel", headers=gateway.auth())
    assert again.status_code == 409
    assert again.json()["detail"] == "a case in status 'cancelled' cannot become 'cancelled'"
    events = (
        await gateway.client.get(f"/v1/cases/{case_id}/events", headers=gateway.auth())
    ).json()
    assert [e["type"] for e in events] == ["case.created", "case.cancelled"]


async def test_attachment_is_stored_hashed_and_evented(gateway: Gateway) -> None:
    case_id = await _open(gateway, "k")
    upload = json.loads((EXAMPLES / "attachment.json").read_text())
    response = await gateway.client.post(
        f"/v1/cases/{case_id}/attachments", json=upload, headers=gateway.auth()
    )
    assert response.status_code == 201
    attachment = response.json()
    assert attachment["size"] == len(base64.b64decode(upload["data"]))
    case = (await gateway.client.get(f"/v1/cases/{case_id}", headers=gateway.auth())).json()
    assert case["payload"]["attachments"] == [attachment]
    assert case["version"] == 2
    events = (
        await gateway.client.get(f"/v1/cases/{case_id}/events", headers=gateway.auth())
    ).json()
    assert events[-1]["type"] == "case.attachment_added"


@pytest.mark.parametrize(
    ("upload", "pointer"),
    [
        ({"kind": "09", "media_type": "text/plain", "title": "t", "data": "***"}, "/data"),
        ({"kind": "9", "media_type": "text/plain", "title": "t", "data": "eA=="}, "/kind"),
        ({"kind": "09", "media_type": "text/plain", "title": "t", "data": "eA==", "x": 1}, "/x"),
    ],
)
async def test_bad_attachments_are_located(
    gateway: Gateway, upload: dict[str, object], pointer: str
) -> None:
    case_id = await _open(gateway, "k")
    response = await gateway.client.post(
        f"/v1/cases/{case_id}/attachments", json=upload, headers=gateway.auth()
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


async def test_health(gateway: Gateway) -> None:
    assert (await gateway.client.get("/health/live")).json() == {"status": "ok"}
    ready = await gateway.client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "policies": "ok"}


async def test_unknown_query_parameters_are_refused(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/cases?stauts=denied", headers=gateway.auth())
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"parameter": "query:stauts", "detail": "not a parameter of this operation"}
    ]
