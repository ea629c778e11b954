"""EHR client -> PAS facade -> gateway -> payer sandbox -> ClaimResponse, on both stores; a
pended case's decision relayed to the EHR's own subscription endpoint."""

from __future__ import annotations

from typing import Any

from gateway.store import cases, outbox
from tests.gateway.fhir.facade_fixtures import Facade, facade, payer
from tests.gateway.fhir.facade_support import (
    FHIR,
    REQUESTER_NPI,
    EhrEndpoint,
    ehr_bundle,
    pas_subscription,
    resource,
    review_actions,
)

FIXTURES = (facade, payer)  # the running gateway and payer sandbox these tests use


def _case_id(response: dict[str, Any]) -> str:
    return str(response["identifier"]["value"])


async def test_approved_within_the_wait_is_answered_final(facade: Facade) -> None:
    answer = await facade.submit(ehr_bundle("CLM-1"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    bundle = answer.json()
    claim_response = resource(bundle, "ClaimResponse")
    assert review_actions(bundle) == ["A1"]
    assert claim_response["outcome"] == "complete"
    assert claim_response["preAuthRef"]
    assert claim_response["request"]["identifier"]["value"] == "CLM-1"
    assert resource(bundle, "Patient")["name"][0]["family"] == "Testpatient"
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] == "OperationOutcome"]
    case = await facade.case(_case_id(bundle))
    assert case["status"] == "approved"
    assert case["payload"]["requesting_provider"]["npi"] == REQUESTER_NPI


async def test_the_same_bundle_twice_is_one_case(facade: Facade) -> None:
    bundle = ehr_bundle("CLM-2")
    first = (await facade.submit(bundle)).json()
    bundle["timestamp"] = "2026-11-23T10:00:00+00:00"  # a resend, stamped anew
    again = await facade.submit(bundle)
    assert again.status_code == 200
    assert _case_id(again.json()) == _case_id(first)
    assert facade.payer.effects(f"{_case_id(first)}:prior_auth.submit") == 1
    async with facade.runtime.store.connect() as conn:
        page = await cases.list_cases(conn, "default", limit=50)
    assert [row.id for row in page] == [_case_id(first)]
    changed = ehr_bundle("CLM-2", procedure_code="43644")
    refused = await facade.submit(changed)
    assert refused.status_code == 422
    issue = refused.json()["issue"][0]
    assert issue["code"] == "duplicate"
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier"]


async def test_denied_carries_the_reason_per_item(facade: Facade) -> None:
    bundle = (await facade.submit(ehr_bundle("CLM-3", procedure_code="43644"))).json()
    assert review_actions(bundle) == ["A3"]
    assert resource(bundle, "ClaimResponse")["processNote"][0]["text"] == "Not necessary"


async def test_pended_then_approved_reaches_the_ehr_subscription(facade: Facade) -> None:
    with EhrEndpoint(fail_first=1) as endpoint:
        created = await facade.api.post(
            "/fhir/Subscription", json=pas_subscription(endpoint.url), headers=FHIR
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        assert subscription["status"] == "active"
        assert "header" not in subscription["channel"]
        read = await facade.api.get(f"/fhir/Subscription/{subscription['id']}")
        assert read.json()["id"] == subscription["id"]

        answer = await facade.submit(ehr_bundle("CLM-4", procedure_code="72148"))
        bundle = answer.json()
        assert review_actions(bundle) == ["A4"]
        assert resource(bundle, "ClaimResponse")["outcome"] == "partial"
        case_id = _case_id(bundle)

        await facade.wait_until(lambda: endpoint.received, timeout=30)
        headers, notification = endpoint.received[0]
        assert endpoint.refused == 1  # the first POST failed and was retried
        assert headers["Authorization"] == "Bearer ehr-endpoint-secret"
        assert notification["type"] == "history"
        status, focus = (entry["resource"] for entry in notification["entry"])
        parameters = {p["name"]: p for p in status["parameter"]}
        assert parameters["type"]["valueCode"] == "event-notification"
        assert parameters["events-since-subscription-start"]["valueString"] == "1"
        assert review_actions(focus) == ["A1"]
        assert _case_id(focus) == case_id
        assert resource(focus, "ClaimResponse")["request"]["identifier"]["value"] == "CLM-4"

        inquiry = ehr_bundle("CLM-4", procedure_code="72148")
        found = await facade.api.post("/fhir/Claim/$inquire", json=inquiry, headers=FHIR)
        assert found.status_code == 200
        [returned] = found.json()["parameter"]
        assert returned["name"] == "return"
        assert review_actions(returned["resource"]) == ["A1"]
        assert len(endpoint.received) == 1


async def test_inquiry_finds_only_the_callers_own_claims(facade: Facade) -> None:
    inquiry = await facade.api.post("/fhir/Claim/$inquire", json=ehr_bundle("NEVER"), headers=FHIR)
    assert inquiry.status_code == 200
    assert inquiry.json() == {"resourceType": "Parameters"}


async def test_subscriptions_of_other_organizations_hear_nothing(facade: Facade) -> None:
    with EhrEndpoint() as endpoint:
        other = pas_subscription(endpoint.url, org="1234567893")
        assert (await facade.api.post("/fhir/Subscription", json=other, headers=FHIR)).is_success
        bundle = (await facade.submit(ehr_bundle("CLM-5"))).json()
        assert review_actions(bundle) == ["A1"]
        async with facade.runtime.store.connect() as conn:
            stats = await outbox.queue_stats(conn)
        assert stats.pending == 0 and not endpoint.received
