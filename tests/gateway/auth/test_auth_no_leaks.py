"""Secrets and tokens never come back in a response nor reach a log line."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

FetchToken = Callable[..., Awaitable[str]]


def _response_text(response: httpx.Response) -> str:
    return response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())


async def test_canary_secret_and_token_stay_out_of_responses_and_logs(
    api: AsyncTestClient[Litestar],
    client_secret: str,
    fetch_token: FetchToken,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_secret = "canary-wrong-secret-5f1c"
    pasted_as_id = "canary-pasted-into-client-id-77aa"
    responses: list[httpx.Response] = []
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        token = await fetch_token(api, scope="cases:read")
        responses.append(
            await api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("svc-secret", wrong_secret),
            )
        )
        responses.append(
            await api.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": pasted_as_id,
                    "client_secret": client_secret,
                },
            )
        )
        responses.append(
            await api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "admin"},
                auth=("svc-secret", client_secret),
            )
        )
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        for bearer in (tampered, token + "x", f"{token} extra"):
            responses.append(
                await api.get("/v1/cases", headers={"Authorization": f"Bearer {bearer}"})
            )
        responses.append(await api.post("/v1/cases", headers={"Authorization": f"Bearer {token}"}))
        responses.append(await api.get("/v1/cases", headers={"Authorization": f"Bearer {token}"}))

    assert [r.status_code for r in responses] == [401, 401, 400, 401, 401, 401, 403, 200]
    logged = repr(events) + caplog.text
    assert events, "the auth layer should have logged the failures"
    canaries = {
        "client secret": client_secret,
        "wrong secret": wrong_secret,
        "secret pasted as client id": pasted_as_id,
        "token": token,
        "tampered token": tampered,
        "token signature": token.rsplit(".", 1)[1],
    }
    for name, canary in canaries.items():
        assert canary not in logged, f"{name} reached the logs"
        for response in responses:
            assert canary not in _response_text(response), f"{name} came back in a response"


async def test_failure_logs_say_why_without_quoting(
    api: AsyncTestClient[Litestar], client_secret: str
) -> None:
    with structlog.testing.capture_logs() as events:
        await api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("svc-secret", client_secret + "-wrong"),
        )
        await api.get("/v1/cases", headers={"Authorization": "Bearer canary.token.value"})
    failures: dict[str, Any] = {e["event"]: e for e in events}
    auth_failure = failures["client_authentication_failed"]
    assert auth_failure["client"] == "svc-secret"
    assert auth_failure["reason"] == "wrong secret"
    rejected = failures["bearer_token_rejected"]
    assert rejected["reason"] == "token is not a compact JWS"
    assert len(rejected["token_sha256"]) == 16
    assert "canary" not in repr(events)
