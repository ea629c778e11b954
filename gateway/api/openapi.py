"""The OpenAPI document, completed with the request bodies the intake handlers read themselves.

Intake handlers take the raw body (see gateway.api.intake), so the framework cannot infer their
body schema; each declares its model in `opt["request_model"]` and this plugin writes the model's
JSON Schema (unknown fields refused: additionalProperties false) into the document it serves.

The /fhir routes speak FHIR, not the canonical API: they take and answer FHIR resources as
application/fhir+json, and every error there is an OperationOutcome in that media type.
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
_PUBLIC_PREFIXES = ("/health/", "/oauth/", "/.well-known/", "/schema")
_METHODS = {"get", "post", "put", "patch", "delete"}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "pointer": {"type": "string", "description": "RFC 6901, into the body"},
                    "parameter": {"type": "string", "description": "source:name"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}
_OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
_FHIR_PREFIX = "/fhir/"
# No bearer token: the CapabilityStatement is public, and a payer's notification carries its
# subscription's own secret header instead (a wrong one is answered 401).
_FHIR_OPEN = ("/fhir/metadata", "/fhir/notifications/")
_FHIR_JSON = "application/fhir+json"
_FHIR_RESOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
}
_OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_PROBLEM_TEXT = {
    400: "Malformed request or bad parameter.",
    401: "Missing or invalid access token.",
    403: "The token lacks a required scope.",
    404: "No such case or work item (or another tenant's).",
    409: "Conflict: illegal transition, concurrent change, or key in flight.",
    413: "Body too large.",
    415: "Not application/fhir+json.",
    422: "A field failed validation (located by JSON pointer), or a reused key.",
    429: "Rate limit exceeded; see Retry-After.",
}


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
        schemas["Problem"] = _PROBLEM_SCHEMA
        schemas["OAuthError"] = _OAUTH_ERROR_SCHEMA
        schemas["FhirResource"] = _FHIR_RESOURCE_SCHEMA
        schemas["OperationOutcome"] = _OPERATION_OUTCOME_SCHEMA
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
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method in _METHODS and path.startswith(_FHIR_PREFIX):
                    _document_fhir(path, method, operation)
                elif method in _METHODS:
                    _document_errors(path, method, operation)
        return document


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    codes: set[int] = set()
    if not path.startswith(_PUBLIC_PREFIXES):
        codes |= {401, 403, 429}
    if operation.get("parameters"):
        codes.add(400)
    if "{case_id}" in path or "{item_id}" in path:
        codes.add(404)
    if method == "post":
        codes |= {400, 413, 422}
    if method == "post" and not path.startswith(_PUBLIC_PREFIXES):
        codes.add(409)
    return codes


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    """Every error an operation can answer, in the shape it is answered in."""
    responses = operation.setdefault("responses", {})
    if path.startswith(_PUBLIC_PREFIXES):
        operation["security"] = []
    if path.startswith("/oauth/"):
        oauth = {"application/json": {"schema": {"$ref": _REF.format(model="OAuthError")}}}
        for code, text in ((400, "RFC 6749 error."), (401, "Client authentication failed.")):
            responses[str(code)] = {"description": text, "content": oauth}
        return
    problem = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}
    for code in sorted(_error_codes(path, method, operation)):
        entry = responses.setdefault(str(code), {"description": _PROBLEM_TEXT[code]})
        entry["content"] = problem


def _fhir_error_codes(path: str, method: str) -> set[int]:
    codes = {400, 429}
    if not path.startswith(_FHIR_OPEN):
        codes |= {401, 403}
    if path.startswith("/fhir/notifications/"):
        codes.add(401)
    if "{" in path:
        codes.add(404)
    if method == "post":
        codes |= {409, 413, 415, 422}
    return codes


def _document_fhir(path: str, method: str, operation: dict[str, Any]) -> None:
    """A FHIR operation: resources in, resources out, OperationOutcome for every error."""
    if path.startswith(_FHIR_OPEN):
        operation["security"] = []
    resource = {_FHIR_JSON: {"schema": {"$ref": _REF.format(model="FhirResource")}}}
    if method == "post":
        operation["requestBody"] = {"required": True, "content": resource}
    responses = operation.setdefault("responses", {})
    for code, entry in responses.items():
        if code.startswith("2"):
            entry["content"] = resource
    outcome = {_FHIR_JSON: {"schema": {"$ref": _REF.format(model="OperationOutcome")}}}
    for code in sorted(_fhir_error_codes(path, method)):
        entry = responses.setdefault(str(code), {"description": _PROBLEM_TEXT[code]})
        entry["content"] = outcome


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
