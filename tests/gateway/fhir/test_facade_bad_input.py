"""Bad input at the facade: an OperationOutcome naming the element (400 not FHIR, 422 breaks
PAS, 413 over the limit), the raw body kept with its error, never a 500; data findings are
warnings, not refusals."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from connectors.secrets import SecretRef
from gateway.auth.issuer import mint_token
from gateway.auth.keys import dev_client, load_or_create_issuer_key
from gateway.auth.settings import ClientSettings
from gateway.fhir.facade_intake import sender_of
from gateway.store import cases
from tests.gateway.api.support import dev_token
from tests.gateway.fhir.facade_fixtures import EHR_SCOPES, MAX_BUNDLE_BYTES, Facade, facade, payer
from tests.gateway.fhir.facade_support import (
    FHIR,
    ehr_bundle,
    pas_subscription,
    resource,
    review_actions,
)

FIXTURES = (facade, payer)  # the running gateway and payer sandbox these tests use
CLAIM = "Bundle.entry[0].resource"
Mutation = Callable[[dict[str, Any]], Any]


def _entry_index(bundle: dict[str, Any], kind: str) -> int:
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    return kinds.index(kind)


def _no_coverage(bundle: dict[str, Any]) -> dict[str, Any]:
    del bundle["entry"][_entry_index(bundle, "Coverage")]
    return bundle


def _two_claims(bundle: dict[str, Any]) -> dict[str, Any]:
    second = copy.deepcopy(bundle["entry"][0])
    second["fullUrl"] = f"urn:uuid:{uuid.uuid4()}"
    bundle["entry"].append(second)
    return bundle


def _entries(bundle: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"] += [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": {"resourceType": "Basic"}}
        for _ in range(10_000)
    ]
    return bundle


def _set(path: str, value: Any) -> Mutation:
    def mutate(bundle: dict[str, Any]) -> dict[str, Any]:
        bundle["entry"][0]["resource"][path] = value
        return bundle

    return mutate


def _with(extra: dict[str, Any]) -> Mutation:
    def mutate(bundle: dict[str, Any]) -> dict[str, Any]:
        bundle["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": extra})
        return bundle

    return mutate


BAD: list[tuple[str, Mutation, int, str]] = [
    ("not a Bundle", lambda b: resource(b, "Patient"), 400, "Bundle"),
    ("dangling reference", _set("patient", {"reference": "x"}), 422, f"{CLAIM}.patient.reference"),
    ("unknown resourceType", _with({"resourceType": "Claimz"}), 400, "Bundle.entry[*].resource"),
    ("R5-only element", _set("traceNumber", [{"value": "T1"}]), 400, f"{CLAIM}.traceNumber"),
    (
        "R5-only resource",
        _with({"resourceType": "Transport", "status": "completed"}),
        400,
        "Bundle.entry[*].resource",
    ),
    ("use is claim", _set("use", "claim"), 422, f"{CLAIM}.use"),
    ("no Coverage", _no_coverage, 422, f"{CLAIM}.insurance[0].coverage.reference"),
    ("two Claims", _two_claims, 422, "Bundle.entry[*].resource"),
    ("no Claim identifier", _set("identifier", None), 422, f"{CLAIM}.identifier"),
    ("10,000 entries", _entries, 422, "Bundle.entry"),
]


@pytest.mark.parametrize(("name", "mutate", "status", "expression"), BAD, ids=[b[0] for b in BAD])
async def test_bad_bundles_are_refused_at_the_element_and_kept(
    facade: Facade, name: str, mutate: Mutation, status: int, expression: str
) -> None:
    bundle = mutate(ehr_bundle("BAD-1"))
    if isinstance(bundle, dict) and bundle.get("entry"):
        claim = bundle["entry"][0]["resource"]
        if claim.get("identifier") is None:
            claim.pop("identifier", None)
    raw = json.dumps(bundle).encode()
    answer = await facade.api.post(
        "/fhir/Claim/$submit", content=raw, headers={"Content-Type": "application/fhir+json"}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    expressions = [e for issue in outcome["issue"] for e in issue["expression"]]
    if "[*]" in expression:
        head, tail = expression.split("[*]")
        assert any(e.startswith(head + "[") and e.endswith(tail) for e in expressions), expressions
    else:
        assert expression in expressions, expressions
    assert all(issue["severity"] == "error" for issue in outcome["issue"])
    async with facade.runtime.store.connect() as conn:
        [kept] = await cases.list_messages(
            conn, facade.runtime.store.cipher, errors_only=True, limit=5
        )
        assert await cases.list_cases(conn, "default", limit=5) == []
    assert kept.body == raw
    wire_format, client_id = sender_of(kept.format)
    sender = dev_client(facade.runtime.settings.home).client_id
    assert (wire_format, client_id) == ("fhir-pas/claim-submit", sender)
    assert kept.error and expressions[0] in kept.error


async def test_not_json_and_not_fhir_json_are_refused(facade: Facade) -> None:
    fhir = {"Content-Type": "application/fhir+json"}
    answer = await facade.api.post("/fhir/Claim/$submit", content=b"{not json", headers=fhir)
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["Bundle"]
    xml = {"Content-Type": "application/fhir+xml"}
    answer = await facade.api.post("/fhir/Claim/$submit", content=b"<Bundle/>", headers=xml)
    assert answer.status_code == 415
    assert answer.json()["issue"][0]["code"] == "not-supported"
    async with facade.runtime.store.connect() as conn:
        kept = await cases.list_messages(
            conn, facade.runtime.store.cipher, errors_only=True, limit=5
        )
    assert sorted(m.body for m in kept) == [b"<Bundle/>", b"{not json"]


async def test_a_50_mb_bundle_is_413_with_an_operation_outcome(facade: Facade) -> None:
    bundle = ehr_bundle("BIG-1")
    bundle["entry"][0]["resource"]["supportingInfo"] = [
        {"sequence": 1, "category": {"text": "x" * (50 * 1024 * 1024)}}
    ]
    raw = json.dumps(bundle).encode()
    assert len(raw) > 50 * 1024 * 1024 > MAX_BUNDLE_BYTES
    answer = await facade.api.post(
        "/fhir/Claim/$submit", content=raw, headers={"Content-Type": "application/fhir+json"}
    )
    assert answer.status_code == 413
    issue = answer.json()["issue"][0]
    assert issue["code"] == "too-costly" and issue["expression"] == ["Bundle"]


async def test_auth_refusals_are_operation_outcomes(facade: Facade) -> None:
    bundle = ehr_bundle("AUTH-1")
    anonymous = await facade.api.post(
        "/fhir/Claim/$submit", json=bundle, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.json()["issue"][0]["code"] == "login"
    settings = facade.runtime.settings
    narrow = dev_token(settings, ("cases:read",))
    refused = await facade.api.post(
        "/fhir/Claim/$submit", json=bundle, headers={"Authorization": f"Bearer {narrow}"}
    )
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"


async def test_metadata_is_a_public_capability_statement(facade: Facade) -> None:
    answer = await facade.api.get("/fhir/metadata", headers={"Authorization": ""})
    assert answer.status_code == 200
    statement = answer.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    [claim] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Claim"]
    assert {op["name"] for op in claim["operation"]} == {"submit", "inquire"}


async def test_published_example_npis_are_warnings_not_refusals(facade: Facade) -> None:
    bundle = ehr_bundle("NPI-9")
    provider = bundle["entry"][0]["resource"]["provider"]["reference"]
    [requester] = [e["resource"] for e in bundle["entry"] if e["fullUrl"] == provider]
    assert requester["identifier"][0]["system"] == "http://hl7.org/fhir/sid/us-npi"
    requester["identifier"][0]["value"] = "123456789"  # nine digits, as PAS examples carry
    answer = await facade.submit(bundle)
    assert answer.status_code == 200, answer.text
    response = answer.json()
    assert review_actions(response) == ["A4"]
    warnings = resource(response, "OperationOutcome")["issue"]
    assert [w["severity"] for w in warnings] == ["warning"]
    path = warnings[0]["expression"][0]
    assert path.startswith("Bundle.entry[") and path.endswith("].resource.identifier")
    assert "123456789" not in json.dumps(warnings)
    case_id = response["identifier"]["value"]
    case = await facade.case(case_id)  # the canonical API reads it back, no 500
    assert case["payload"]["requesting_provider"]["npi"] == "123456789"
    events = (await facade.api.get(f"/v1/cases/{case_id}/events")).json()
    assert events[0]["data"]["findings"] == [
        {"expression": path, "diagnostics": warnings[0]["diagnostics"]}
    ]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"criteria": "Claim?status=active"}, "Subscription.criteria"),
        ({"_criteria": None}, "Subscription.criteria.extension"),
        ({"channel": {"type": "websocket"}}, "Subscription.channel.type"),
        ({"channel_endpoint": "http://ehr.example.org/hook"}, "Subscription.channel.endpoint"),
        ({"channel_payload": "id-only"}, "Subscription.channel.payload.extension"),
    ],
)
async def test_subscriptions_outside_the_pas_profile_are_refused(
    facade: Facade, change: dict[str, Any], expression: str
) -> None:
    subscription = pas_subscription("http://127.0.0.1:9/hook")
    for key, value in change.items():
        if key == "channel_endpoint":
            subscription["channel"]["endpoint"] = value
        elif key == "channel_payload":
            subscription["channel"]["_payload"]["extension"][0]["valueCode"] = value
        elif value is None:
            del subscription[key]
        elif key == "channel":
            subscription["channel"] |= value
        else:
            subscription[key] = value
    answer = await facade.api.post("/fhir/Subscription", json=subscription, headers=FHIR)
    assert answer.status_code == 422, answer.text
    assert answer.json()["issue"][0]["expression"] == [expression]


async def test_another_clients_subscription_is_not_found(facade: Facade) -> None:
    subscription = pas_subscription("http://127.0.0.1:9/hook")
    created = await facade.api.post("/fhir/Subscription", json=subscription, headers=FHIR)
    assert created.status_code == 201
    settings = facade.runtime.settings
    other = ClientSettings(
        client_id="other-ehr",
        tenant="default",
        scopes=list(EHR_SCOPES),
        secret=SecretRef("env:UNUSED_IN_TESTS"),
    )
    token = mint_token(load_or_create_issuer_key(settings.home), settings.auth, other, EHR_SCOPES)
    path = f"/fhir/Subscription/{created.json()['id']}"
    stranger = await facade.api.get(path, headers={"Authorization": f"Bearer {token}"})
    assert stranger.status_code == 404
    assert stranger.json()["resourceType"] == "OperationOutcome"
    assert (await facade.api.delete(path)).status_code == 200
    assert (await facade.api.get(path)).json()["status"] == "off"
