"""The baseline every intake figure is divided by: Litestar with one handler that decodes the
same JSON body and answers a constant.

It costs what any Python service on this stack pays per request (uvicorn, the ASGI router, JSON
decoding) and nothing casegate adds (auth, validation, the durable write), so the ratio says how
much of the framework's speed the gateway keeps.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, post

INTAKE_PATH = "/v1/prior-authorizations"
_ACCEPTED = {"id": "0", "status": "draft"}


@post(INTAKE_PATH, status_code=202)
async def accept(data: dict[str, Any]) -> dict[str, str]:
    return _ACCEPTED


def create_bare_app() -> Litestar:
    return Litestar(route_handlers=[accept], openapi_config=None, debug=False)
