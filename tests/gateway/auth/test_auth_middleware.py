"""Bearer middleware, scope guards and rate limits on a small Litestar app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.auth import AuthSettings, ClientRateLimiter
from gateway.auth.ratelimit import retry_after_seconds

FetchToken = Callable[..., Awaitable[str]]
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def _assert_problem(response: httpx.Response, status: int, problem: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == status
    assert body["type"] == f"urn:casegate:problem:{problem}"
    return body


async def test_valid_token_reaches_the_handler_as_principal(
    api: AsyncTestClient[Litestar], fetch_token: FetchToken
) -> None:
    token = await fetch_token(api)
    response = await api.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {
        "client_id": "svc-secret",
        "tenant": "tenant-a",
        "scopes": ["cases:read", "cases:write"],
    }
    lowercase_scheme = await api.get("/v1/cases", headers={"Authorization": f"bearer {token}"})
    assert lowercase_scheme.status_code == 200


async def test_missing_credentials_get_a_bare_challenge(api: AsyncTestClient[Litestar]) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await api.get("/v1/cases", headers=headers)
        _assert_problem(response, 401, "authentication-required")
        # RFC 6750 section 3.1: no error code when no bearer credentials were sent at all
        assert response.headers["www-authenticate"] == 'Bearer realm="casegate"'


async def test_invalid_token_is_401_invalid_token(api: AsyncTestClient[Litestar]) -> None:
    for header in ("Bearer not-a-jwt", "Bearer ", "Bearer a.b.c"):
        response = await api.get("/v1/cases", headers={"Authorization": header})
        _assert_problem(response, 401, "invalid-token")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="casegate", error="invalid_token"')


async def test_missing_scope_is_403_insufficient_scope(
    api: AsyncTestClient[Litestar], fetch_token: FetchToken
) -> None:
    token = await fetch_token(api, scope="cases:read")
    response = await api.post("/v1/cases", headers={"Authorization": f"Bearer {token}"})
    body = _assert_problem(response, 403, "insufficient-scope")
    assert body["detail"] == "this operation needs scope cases:write"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="cases:write"' in challenge
    allowed = await api.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert allowed.status_code == 200


async def test_excluded_paths_are_anchored(api: AsyncTestClient[Litestar]) -> None:
    assert (await api.get("/health")).status_code == 200
    assert (await api.get("/.well-known/jwks.json")).status_code == 200
    assert (await api.get("/schema/openapi.json")).status_code == 200
    # "/health" inside another path is not an exclusion
    _assert_problem(await api.get("/v1/cases/health"), 401, "authentication-required")


async def test_principal_of_on_an_unauthenticated_route_is_401(
    api: AsyncTestClient[Litestar],
) -> None:
    _assert_problem(await api.get("/public/whoami"), 401, "authentication-required")


async def test_rate_limit_answers_429_with_retry_after(
    settings_with: Callable[..., AuthSettings],
    make_client: Callable[[AuthSettings], AsyncTestClient[Litestar]],
    fetch_token: FetchToken,
    es384_client_key: Any,
    assertion_request: Callable[..., dict[str, str]],
) -> None:
    settings = settings_with(rate_limit_per_second=0.5, burst=2)
    async with make_client(settings) as api:
        token = await fetch_token(api)
        headers = {"Authorization": f"Bearer {token}"}
        assert (await api.get("/v1/cases", headers=headers)).status_code == 200
        assert (await api.get("/v1/cases", headers=headers)).status_code == 200
        throttled = await api.get("/v1/cases", headers=headers)
        _assert_problem(throttled, 429, "rate-limited")
        assert throttled.headers["retry-after"] == "2"

        # the bucket is per client: another client is not held back
        other = await api.post(
            "/oauth/token",
            data=assertion_request(
                es384_client_key.assertion("svc-es384", "http://127.0.0.1:8080/oauth/token")
            ),
        )
        other_token = other.json()["access_token"]
        response = await api.get("/v1/cases", headers={"Authorization": f"Bearer {other_token}"})
        assert response.status_code == 200


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_the_configured_rate() -> None:
    clock = _Clock()
    limiter = ClientRateLimiter(10, 3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.1)
    clock.now += 0.25  # refills 2.5 tokens
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0
    clock.now += 100  # never more than the burst
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0


def test_retry_after_never_rounds_down() -> None:
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(1.2) == 2
    with pytest.raises(ValueError, match="positive"):
        ClientRateLimiter(0, 1)
