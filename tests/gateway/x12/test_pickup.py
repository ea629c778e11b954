"""835 and 277 files picked up from the clearinghouse: stored, de-duplicated, denials appealed."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from canonical.cases import ClaimStatusRequest
from canonical.claim_status import ClaimStatus, ClaimStatusResult, StatusCode
from connectors.x12_clearinghouse.sandbox_reports import (
    ClaimAdjustment,
    PaidClaim,
    Payee,
    claim_status_277,
    remittance_835,
    report_header,
)
from gateway.store.cases import list_messages
from gateway.store.schema import cases, outbox_jobs
from tests.connectors.connector_test_support import ROOT
from tests.gateway.x12.support import LiveX12

SUBMITTED = ROOT / "tests" / "mappings" / "x12" / "golden" / "claim-professional.case.json"
CANARY = "Zqcanarypickup"


def _claim(account: str, paid: str, *adjustments: ClaimAdjustment) -> PaidClaim:
    return PaidClaim(
        account_number=account,
        payer_claim_id=f"PC-{account}",
        procedure_code="99213",
        charge=Decimal("150.00"),
        paid=Decimal(paid),
        service_date=date(2026, 11, 2),
        member_id="W123456789",
        family=CANARY,
        given="AVERY",
        adjustments=adjustments,
    )


def _era(control_number: int) -> bytes:
    claims = [
        _claim("PAN-PAID", "120.00", ClaimAdjustment("CO", "45", Decimal("30.00"))),
        _claim("PAN-DENIED", "0", ClaimAdjustment("CO", "50", Decimal("150.00"))),
        _claim("PAN-UNKNOWN", "0", ClaimAdjustment("PI", "197", Decimal("150.00"))),
    ]
    return remittance_835(
        claims,
        header=report_header("CLEARINGHOUSE", "CASEGATE", control_number, datetime.now(UTC)),
        payer_id="ACMEHP",
        payer_name="ACME HEALTH PLAN",
        payee=Payee("1860913908", "GENERAL HOSPITAL", "123456789"),
        paid_on=date(2026, 11, 20),
        trace_number="EFT-1",
    )


def _submit_claim(folder: Path, account: str, payer: str | None = None) -> None:
    payload: dict[str, Any] = json.loads(SUBMITTED.read_text())["payload"]
    payload["patient_account_number"] = account
    if payer is not None:
        payload["payer"]["id"] = payer
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{account}.json").write_text(json.dumps(payload))


async def _until(check: Callable[[], Any], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "the pickup did not get there"
        await asyncio.sleep(0.05)


async def _appeals(live: LiveX12) -> list[Any]:
    async with live.runtime.store.connect() as conn:
        query = sa.select(cases).where(cases.c.type == "denial_appeal")
        return list(await conn.execute(query))


async def _messages(live: LiveX12) -> list[Any]:
    async with live.runtime.store.connect() as conn:
        found = await list_messages(conn, live.runtime.store.cipher, errors_only=False, limit=100)
    return [m for m in found if m.format.startswith("x12/") or m.format == "x12"]


async def test_an_835_opens_appeals_for_denials_once(
    live_x12: LiveX12,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    _submit_claim(tmp_path / "claims", "PAN-DENIED")
    reports = live_x12.clearinghouse.root / "outbound"
    live_x12.clearinghouse.leave_report("era-1.835", _era(901))

    async def taken() -> bool:
        return not list(reports.iterdir()) and len(await _messages(live_x12)) == 1

    await _until(taken)
    [appeal] = await _appeals(live_x12)
    payload = appeal.payload
    assert payload["claim"]["patient_account_number"] == "PAN-DENIED"
    assert payload["adjustments"] == [{"group": "CO", "reason_code": "50", "amount": "150.00"}]
    assert CANARY not in payload["appeal_reason"]
    [message] = await _messages(live_x12)
    assert message.format == "x12/835"
    assert message.direction == "inbound"
    assert message.body.startswith(b"ISA*")
    assert message.error == "1 denied claim(s) match no submitted claim"

    # The same interchange again (a resend): nothing new, and the file still goes.
    live_x12.clearinghouse.leave_report("era-1-again.835", _era(901))
    await _until(lambda: _empty(reports))
    await asyncio.sleep(0.2)
    assert len(await _appeals(live_x12)) == 1
    assert len(await _messages(live_x12)) == 1

    # Another interchange is another remittance: its denial opens its own appeal.
    live_x12.clearinghouse.leave_report("era-2.835", _era(902))
    await _until(lambda: _count(live_x12, 2))
    assert len(await _appeals(live_x12)) == 2
    assert CANARY not in caplog.text + capsys.readouterr().out


async def test_an_appeal_is_decided_by_the_default_pack_and_waits_for_a_person(
    live_x12: LiveX12, tmp_path: Path
) -> None:
    """A payer with no pack of its own: the default pack holds the appeal for the appeals
    queue, so it is neither sent anywhere nor lost for want of a route."""
    _submit_claim(tmp_path / "claims", "PAN-DENIED", payer="OTHERPLAN")
    live_x12.clearinghouse.leave_report("era-3.835", _era(905))
    await _until(lambda: _count(live_x12, 1))
    [appeal] = await _appeals(live_x12)
    assert (appeal.payer_id, appeal.status) == ("OTHERPLAN", "more_info_requested")
    response = await live_x12.api.get(f"/v1/cases/{appeal.id}/decision")
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["pack_id"] == "default"
    assert "DEF-HOLD-APPEALS" in decision["fired_rules"]
    items = await live_x12.api.get("/v1/work-items", params={"queue": "appeals"})
    assert items.status_code == 200, items.text
    [item] = items.json()["items"]
    assert (item["case_id"], item["kind"]) == (appeal.id, "policy_exception")
    async with live_x12.runtime.store.connect() as conn:
        query = sa.select(sa.func.count()).select_from(outbox_jobs)
        sends = await conn.execute(query.where(outbox_jobs.c.case_id == appeal.id))
    assert sends.scalar_one() == 0


async def _empty(folder: Path) -> bool:
    return not list(folder.iterdir())


async def _count(live: LiveX12, expected: int) -> bool:
    return len(await _messages(live)) == expected


async def test_unreadable_and_invalid_files_are_kept_with_their_error(live_x12: LiveX12) -> None:
    reports = live_x12.clearinghouse.root / "outbound"
    live_x12.clearinghouse.leave_report("junk.835", b"not x12 at all " + CANARY.encode())
    broken = _era(903).replace(b"CLP*PAN-PAID*1*", b"CLP*PAN-PAID*Q*", 1)
    live_x12.clearinghouse.leave_report("broken.835", broken)
    await _until(lambda: _count(live_x12, 2))
    assert not list(reports.iterdir())
    errors = sorted(m.error or "" for m in await _messages(live_x12))
    assert errors[0].startswith("refused: transaction set 835 at segment 3: ")
    assert errors[0].endswith("segment 12 (CLP, loop 2100) element 02: invalid code value")
    assert errors[1].startswith("unreadable X12")
    assert all(CANARY not in e for e in errors)
    assert await _appeals(live_x12) == []


async def test_an_unsolicited_277_is_kept_with_the_case_it_answers(live_x12: LiveX12) -> None:
    body = json.loads((ROOT / "examples" / "claim-status.json").read_text())
    response = await live_x12.api.post(
        "/v1/claim-status-inquiries", json=body, headers={"Idempotency-Key": "cs-277"}
    )
    assert response.status_code == 202, response.text
    case_id = response.json()["id"]
    request = ClaimStatusRequest.model_validate(body)
    status = ClaimStatus(
        patient_account_number=request.claim.patient_account_number,
        payer_claim_id="PC-1",
        statuses=[StatusCode(category="F1", code="65")],
    )
    now = datetime.now(UTC)
    report = claim_status_277(
        case_id,
        request,
        ClaimStatusResult(case_id=case_id, claims=[status]),
        header=report_header("CLEARINGHOUSE", "CASEGATE", 904, now),
        created=now,
    )
    live_x12.clearinghouse.leave_report("status.277", report)
    await _until(lambda: _count(live_x12, 1))
    [message] = await _messages(live_x12)
    assert message.format == "x12/277"
    assert message.case_id == case_id
    assert message.error is None
