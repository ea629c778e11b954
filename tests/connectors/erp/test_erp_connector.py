"""What the ERP connector posts and reads, on both profiles, beyond the conformance kit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from connectors.contract import ConnectorRequest
from connectors.erp.profile import SHIPPED, ProfileError, load_profile
from connectors.erp.sandbox import ErpSandbox
from connectors.errors import PermanentError
from connectors.payer_rest.sandbox_auth import SandboxClient
from connectors.registry import ConnectorRegistry
from tests.connectors.connector_test_support import CLIENT_ID, SECRET_VALUE
from tests.connectors.erp.erp_support import CASE, approved_invoice, erp_config, event

PROFILES = ("odata", "rest")


@pytest.fixture(scope="module")
def erp(sandbox_clients: list[SandboxClient]) -> Iterator[ErpSandbox]:
    with ErpSandbox(sandbox_clients, hang_seconds=3) as running:
        yield running


@pytest.fixture(params=PROFILES)
async def connector(request: pytest.FixtureRequest, erp: ErpSandbox) -> AsyncIterator[Any]:
    erp.reset()
    profile: str = request.param
    url = erp.odata_url() if profile == "odata" else erp.base_url
    created = ConnectorRegistry().create("erp", erp_config(url, profile))
    yield created
    await created.aclose()


def _request(payload: dict[str, Any], operation: str = "erp.post") -> ConnectorRequest:
    return ConnectorRequest(
        operation=operation,
        idempotency_key=f"{CASE['id']}:{uuid.uuid4().hex[:8]}",
        case_id=CASE["id"],
        case_type="prior_authorization",
        payload=payload,
    )


async def test_an_approval_releases_the_requisition_and_updates_schedule_and_finance(
    connector: Any, erp: ErpSandbox
) -> None:
    request = _request(event("authorization.approved", authorized_from="2026-12-01"))
    response = await connector.send(request)
    assert response.data == {
        "posted": ["requisition_release", "schedule_update", "expected_reimbursement"]
    }
    assert erp.ledger.requisitions == {CASE["id"]: "release"}
    [schedule] = erp.ledger.documents("schedule_updates")
    assert schedule["authorization_number"] == "AUTH-77"
    assert schedule["valid_from"] == "2026-12-01"
    assert "valid_to" not in schedule  # absent in the event, so left out, not sent as null
    [expected] = erp.ledger.documents("expected_reimbursements")
    assert expected["payer_id"] == "ACMEHP"
    # Each document has its own key, so a resend finds each and posts none again.
    await connector.send(request)
    assert erp.effects(request.idempotency_key) == 3


async def test_a_pend_holds_the_requisition_after_an_approval_released_it(
    connector: Any, erp: ErpSandbox
) -> None:
    await connector.send(_request(event("authorization.approved")))
    await connector.send(_request(event("authorization.pended")))
    assert erp.ledger.requisitions == {CASE["id"]: "hold"}


async def test_an_approved_invoice_books_ap_and_the_gl(connector: Any, erp: ErpSandbox) -> None:
    await connector.send(_request(approved_invoice()))
    [invoice] = erp.ledger.documents("ap_invoices")
    assert invoice["purchase_order"] == "PO-1001"
    assert [line["item_code"] for line in invoice["lines"]] == ["IMPLANT-KNEE-TKA", "SCREW-6.5"]
    assert erp.gl_total() == Decimal("9355.00")


async def test_an_erp_validation_error_is_permanent_with_the_erps_message_kept(
    connector: Any, erp: ErpSandbox
) -> None:
    with pytest.raises(PermanentError) as caught:
        await connector.send(_request(approved_invoice(supplier_id="SUP-999")))
    assert b"supplier_id is not a known supplier" in caught.value.wire_response
    assert "SUP-999" not in caught.value.reason
    assert erp.ledger.documents("ap_invoices") == []


async def test_a_type_the_profile_does_not_map_is_permanent(connector: Any) -> None:
    with pytest.raises(PermanentError, match="maps no document"):
        await connector.send(_request(event("eligibility.checked")))


async def test_lookups_answer_the_same_canonical_fields_on_both_profiles(
    connector: Any,
) -> None:
    response = await connector.send(_request({"purchase_order_number": "PO-1002"}, "erp.lookup"))
    assert response.decision is None
    assert response.data == {
        "purchase_order": {
            "purchase_order_number": "PO-1002",
            "supplier_id": "SUP-200",
            "currency": "USD",
            "lines": [
                {
                    "line_number": 1,
                    "item_code": "NDC-57894-0030-01",
                    "quantity": "5",
                    "unit_price": "1200.00",
                }
            ],
        },
        "receipts": [{"line_number": 1, "quantity": "4"}],
    }


async def test_the_odata_service_would_post_twice_without_the_natural_key_search(
    erp: ErpSandbox, connector: Any
) -> None:
    """The sandbox keeps the connector honest: a blind resend shows as a second document."""
    erp.reset()
    token = await _token(erp)
    document = {"ExternalId": "k1/requisition_hold", "CaseReference": "C1", "Action": "HOLD"}
    async with httpx.AsyncClient(base_url=erp.odata_url()) as client:
        for _ in range(2):
            answer = await client.post(
                "/RequisitionCheckpoints", json=document, headers={"Authorization": token}
            )
            assert answer.status_code == 201
    assert erp.effects("k1") == 2


async def _token(erp: ErpSandbox) -> str:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{erp.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, SECRET_VALUE),
        )
    return f"Bearer {answer.json()['access_token']}"


def _shipped_odata() -> Any:
    return yaml.safe_load((SHIPPED / "odata.yaml").read_text())


def test_profiles_refuse_placeholders_that_are_not_fields(tmp_path: Path) -> None:
    raw = _shipped_odata()
    raw["documents"][0]["path"] = "/RequisitionCheckpoints('{Nope}')"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ProfileError, match=r"documents\.0"):
        load_profile(str(bad))


def test_natural_keys_need_a_search_path(tmp_path: Path) -> None:
    raw = _shipped_odata()
    del raw["documents"][2]["search_path"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ProfileError, match="invalid"):
        load_profile(str(bad))
