import asyncio
import json
from typing import Any

import pytest

from gateway.store import cases
from tests.gateway.api.support import EXAMPLES, Gateway

PA = "/v1/prior-authorizations"


def _body(example: bytes, **changes: Any) -> bytes:
    doc = json.loads(example)
    for path, value in changes.items():
        node = doc
        *parents, leaf = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[leaf] = value
    return json.dumps(doc).encode()


async def _post(gw: Gateway, body: bytes, key: str | None = "k-1", **headers: str) -> Any:
    all_headers = {**gw.auth(), "Content-Type": "application/json", **headers}
    if key is not None:
        all_headers["Idempotency-Key"] = key
    return await gw.client.post(PA, content=body, headers=all_headers)


async def _case_count(gw: Gateway) -> int:
    async with gw.runtime.store.connect() as conn:
        return len(await cases.list_cases(conn, "default", limit=1000))


async def test_accepted_case_is_durable_and_readable(gateway: Gateway, example: bytes) -> None:
    response = await _post(gateway, example)
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "draft"
    assert accepted["links"]["self"] == f"/v1/cases/{accepted['id']}"
    case = (await gateway.client.get(accepted["links"]["self"], headers=gateway.auth())).json()
    assert case["payload"]["requesting_provider"]["npi"] == "1260181593"
    assert case["type"] == "prior_authorization"
    events = (await gateway.client.get(accepted["links"]["events"], headers=gateway.auth())).json()
    assert [e["type"] for e in events] == ["case.created"]
    async with gateway.runtime.store.connect() as conn:
        stored = await cases.list_messages(
            conn, gateway.runtime.store.cipher, errors_only=False, limit=10
        )
    assert [m.body for m in stored] == [example]


async def test_missing_idempotency_key_is_400_problem(gateway: Gateway, example: bytes) -> None:
    response = await _post(gateway, example, key=None)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in response.json()["detail"]


async def test_same_key_same_body_returns_stored_answer(gateway: Gateway, example: bytes) -> None:
    first = await _post(gateway, example)
    second = await _post(gateway, example)
    assert second.status_code == 202
    assert second.json() == first.json()
    assert await _case_count(gateway) == 1


async def test_same_key_other_body_is_422(gateway: Gateway, example: bytes) -> None:
    await _post(gateway, example)
    response = await _post(gateway, _body(example, urgency="expedited"))
    assert response.status_code == 422
    assert response.json()["type"] == "urn:casegate:problem:idempotency-mismatch"
    assert await _case_count(gateway) == 1


async def test_concurrent_same_key_makes_one_case(gateway: Gateway, example: bytes) -> None:
    responses = await asyncio.gather(*(_post(gateway, example) for _ in range(10)))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {202, 409}
    assert codes.count(202) >= 1
    ids = {r.json()["id"] for r in responses if r.status_code == 202}
    assert len(ids) == 1
    assert all(r.headers.get("retry-after") for r in responses if r.status_code == 409)
    assert await _case_count(gateway) == 1


@pytest.mark.parametrize(
    ("changes", "pointer", "words"),
    [
        ({"requesting_provider__npi": "1260181594"}, "/requesting_provider/npi", "NPI"),
        ({"diagnoses__0__code": "17.11"}, "/diagnoses/0/code", "ICD-10-CM"),
        ({"patient__ssn": "000-00-0000"}, "/patient/ssn", "Extra inputs"),
        ({"service_lines__0__units": "many"}, "/service_lines/0/units", "decimal"),
        ({"urgency": "whenever"}, "/urgency", "expedited"),
    ],
)
async def test_invalid_fields_are_located_by_json_pointer(
    gateway: Gateway, example: bytes, changes: dict[str, Any], pointer: str, words: str
) -> None:
    response = await _post(gateway, _body(example, **changes))
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert words in problem["errors"][0]["detail"]


async def test_rejected_input_is_kept_with_its_error(gateway: Gateway, example: bytes) -> None:
    bad = _body(example, requesting_provider__npi="1260181594")
    await _post(gateway, bad)
    async with gateway.runtime.store.connect() as conn:
        [kept] = await cases.list_messages(
            conn, gateway.runtime.store.cipher, errors_only=True, limit=10
        )
    assert kept.body == bad
    assert kept.error is not None
    assert "/requesting_provider/npi" in kept.error
    assert await _case_count(gateway) == 0


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b"null"])
async def test_malformed_bodies_get_4xx_problems(gateway: Gateway, body: bytes) -> None:
    response = await _post(gateway, body)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_oversize_body_is_413(gateway: Gateway) -> None:
    response = await _post(gateway, b'{"notes": "' + b"x" * 2_000_000 + b'"}')
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_no_token_is_401_and_read_only_token_is_403(gateway: Gateway, example: bytes) -> None:
    response = await gateway.client.post(PA, content=example, headers={"Idempotency-Key": "x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    read_only = gateway.token_for(scopes=("cases:read",))
    response = await _post(gateway, example, **gateway.auth(read_only))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "example_file", "case_type"),
    [
        ("/v1/eligibility-checks", "eligibility-check.json", "eligibility_check"),
        ("/v1/claim-status-inquiries", "claim-status.json", "claim_status"),
        ("/v1/denial-appeals", "denial-appeal.json", "denial_appeal"),
        ("/v1/invoice-exceptions", "invoice-exception.json", "invoice_exception"),
    ],
)
async def test_every_case_type_opens_a_case(
    gateway: Gateway, path: str, example_file: str, case_type: str
) -> None:
    response = await gateway.client.post(
        path,
        content=(EXAMPLES / example_file).read_bytes(),
        headers={**gateway.auth(), "Idempotency-Key": "k"},
    )
    assert response.status_code == 202
    case = (
        await gateway.client.get(response.json()["links"]["self"], headers=gateway.auth())
    ).json()
    assert case["type"] == case_type


async def test_phi_canary_never_leaks_into_problems_or_logs(
    gateway: Gateway, example: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = "Zyxwvutsrq"
    bad = _body(example, patient__given=canary, requesting_provider__npi="1260181594")
    response = await _post(gateway, bad)
    assert response.status_code == 422
    assert canary not in response.text
    ok = await _post(gateway, _body(example, patient__given=canary), key="k-2")
    assert ok.status_code == 202
    captured = capsys.readouterr()
    assert canary not in captured.out + captured.err
