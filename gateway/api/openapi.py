"""The OpenAPI document, completed with the request bodies the intake handlers read themselves.

Intake handlers take the raw body (see gateway.api.intake), so the framework cannot infer their
body schema; each declares its model in `opt["request_model"]` and this plugin writes the model's
JSON Schema (unknown fields refused: additionalProperties false) into the document it serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"


class _BodyInjectingJsonPlugin(JsonRenderPlugin):
    def __init__(self, bodies: dict[str, type[BaseModel]]) -> None:
        super().__init__()
        self._bodies = bodies
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, self._complete(openapi_schema))
        return self._rendered

    def _complete(self, document: dict[str, Any]) -> dict[str, Any]:
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for path, model in self._bodies.items():
            schema = model.model_json_schema(ref_template=_REF)
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            operation = document["paths"][path]["post"]
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
                },
            }
        return document


def openapi_config(handlers: Iterable[HTTPRouteHandler]) -> OpenAPIConfig:
    bodies: dict[str, type[BaseModel]] = {}
    for handler in handlers:
        model = handler.opt.get("request_model")
        if model is not None:
            bodies.update({path: model for path in handler.paths})
    return OpenAPIConfig(
        title="casegate",
        version="0.1.0",
        description="Canonical case APIs of the casegate healthcare integration gateway.",
        path="/schema",
        render_plugins=[_BodyInjectingJsonPlugin(bodies)],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        security=[{"bearer": []}],
    )
