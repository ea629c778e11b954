"""The OpenAPI document describes the /fhir routes as they answer: FHIR resources in and out as
application/fhir+json, every error an OperationOutcome (the contract test holds them to it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.settings import Settings, WorkerSettings

FHIR_OPERATIONS = {
    ("post", "/fhir/Claim/$submit"),
    ("post", "/fhir/Claim/$inquire"),
    ("get", "/fhir/metadata"),
    ("post", "/fhir/Subscription"),
    ("get", "/fhir/Subscription/{subscription_id}"),
    ("delete", "/fhir/Subscription/{subscription_id}"),
    ("post", "/fhir/notifications/{subscription_id}"),
}


async def _document(tmp_path: Path) -> dict[str, Any]:
    app = create_app(Settings(home=tmp_path, workers=WorkerSettings(in_process=False)))
    async with AsyncTestClient(app) as client:
        answer = await client.get("/schema/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


async def test_fhir_routes_answer_fhir_json_and_operation_outcomes(tmp_path: Path) -> None:
    document = await _document(tmp_path)
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        if path.startswith("/fhir/")
        for method, operation in item.items()
        if method in {"get", "post", "delete"}
    }
    assert set(operations) == FHIR_OPERATIONS
    for (method, path), operation in operations.items():
        for code, response in operation["responses"].items():
            [media_type] = response["content"]
            assert media_type == "application/fhir+json", (method, path, code)
            schema = response["content"][media_type]["schema"]["$ref"]
            expected = "FhirResource" if code.startswith("2") else "OperationOutcome"
            assert schema == f"#/components/schemas/{expected}", (method, path, code)
        if method == "post":
            assert list(operation["requestBody"]["content"]) == ["application/fhir+json"]
    open_routes = {p for (_, p), op in operations.items() if op.get("security") == []}
    assert open_routes == {"/fhir/metadata", "/fhir/notifications/{subscription_id}"}
    assert "401" in operations[("post", "/fhir/notifications/{subscription_id}")]["responses"]


async def test_the_canonical_api_keeps_problem_json(tmp_path: Path) -> None:
    document = await _document(tmp_path)
    refused = document["paths"]["/v1/cases/{case_id}"]["get"]["responses"]["404"]
    assert list(refused["content"]) == ["application/problem+json"]
