"""Pended FHIR PAS cases followed up the PAS way, through the real worker, connector and
sandbox payer: one subscription per payer, decisions by notification, `$inquire` only to
reconcile an overdue one; duplicates ignored, forgeries refused, no PHI in the logs."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gateway.fhir.notifications import MAX_NOTIFICATION_BYTES
from gateway.fhir.payer_subscriptions import SECRET_HEADER
from gateway.store import cases
from gateway.store.schema import fhir_payer_notifications, fhir_payer_subscriptions, outbox_jobs
from tests.gateway.fhir.payer_support import PasGateway


async def test_pended_case_is_approved_by_the_payer_notification(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("pend-1")
    case = await notified.wait_for(case_id, "approved")
    assert case["decision"]["auth_number"]
    events = await notified.events(case_id)
    assert [e["type"] for e in events] == [
        "case.created",
        "case.submitted",
        "case.pended",
        "case.approved",
    ]
    assert events[-1]["data"]["via"] == "notification"
    report = notified.payer.report()["totals"]
    assert report["inquiries"] == 0  # no polling while the payer decides
    assert report["notifications_sent"] == 1
    assert len(notified.payer.subscriptions()) == 1


async def test_one_subscription_serves_every_case(notified: PasGateway) -> None:
    await notified.subscribed()
    cases = [await notified.submit(f"many-{i}") for i in range(3)]
    for case_id in cases:
        await notified.wait_for(case_id, "approved")
    assert len(notified.payer.subscriptions()) == 1
    async with notified.runtime.store.connect() as conn:
        rows = (await conn.execute(sa.select(fhir_payer_subscriptions))).all()
    assert [(r.status, r.connector) for r in rows] == [("active", "pas")]
    assert SECRET_HEADER in notified.payer.subscriptions()[0].headers


async def test_a_repeated_notification_is_ignored(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("dup")
    await notified.wait_for(case_id, "approved")
    [sent] = notified.payer.notifications()
    again = await notified.api.post(
        sent.endpoint, content=sent.body, headers={**sent.headers, "Authorization": ""}
    )
    assert again.status_code == 200
    assert len(await notified.events(case_id)) == 4
    async with notified.runtime.store.connect() as conn:
        received = (await conn.execute(sa.select(fhir_payer_notifications))).all()
        jobs = (
            await conn.execute(
                sa.select(outbox_jobs.c.id).where(outbox_jobs.c.kind == "fhir.notified_decision")
            )
        ).all()
    assert len(received) == 1
    assert len(jobs) == 1


async def test_a_forged_notification_is_refused(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("forged", procedure_code="27447")
    await notified.wait_for(case_id, "approved")
    [subscription] = notified.payer.subscriptions()
    forged = json.dumps({"resourceType": "Bundle", "type": "history", "entry": []}).encode()
    for headers in ({SECRET_HEADER: "guessed"}, {}):
        answer = await notified.api.post(
            subscription.endpoint, content=forged, headers={**headers, "Authorization": ""}
        )
        assert answer.status_code == 401
        assert answer.json()["resourceType"] == "OperationOutcome"
        assert answer.json()["issue"][0]["code"] == "security"
    unknown = subscription.endpoint.rsplit("/", 1)[0] + "/no-such-subscription"
    answer = await notified.api.post(
        unknown, content=forged, headers={**subscription.headers, "Authorization": ""}
    )
    assert answer.status_code == 401
    async with notified.runtime.store.connect() as conn:
        assert (await conn.execute(sa.select(fhir_payer_notifications))).all() == []


async def test_an_unusable_notification_is_kept_with_its_error(notified: PasGateway) -> None:
    await notified.subscribed()
    [subscription] = notified.payer.subscriptions()
    answer = await notified.api.post(
        subscription.endpoint,
        content=b'{"resourceType": "Bundle", "type": "collection"}',
        headers={**subscription.headers, "Authorization": ""},
    )
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["Bundle.type"]
    async with notified.runtime.store.connect() as conn:
        errors = await cases.list_messages(
            conn, notified.runtime.store.cipher, errors_only=True, limit=10
        )
    assert [m.format for m in errors] == ["fhir-pas-notification"]
    assert errors[0].body.startswith(b'{"resourceType": "Bundle"')


async def test_a_notification_for_another_subscription_is_refused(notified: PasGateway) -> None:
    await notified.subscribed()
    case_id = await notified.submit("other-sub")
    await notified.wait_for(case_id, "approved")
    [sent] = notified.payer.notifications()
    [subscription] = notified.payer.subscriptions()
    body = sent.body.replace(f"Subscription/{subscription.id}".encode(), b"Subscription/other")
    answer = await notified.api.post(
        sent.endpoint, content=body, headers={**sent.headers, "Authorization": ""}
    )
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["diagnostics"] == "names another subscription"


async def test_an_oversized_notification_is_refused_as_fhir(notified: PasGateway) -> None:
    await notified.subscribed()
    [subscription] = notified.payer.subscriptions()
    answer = await notified.api.post(
        subscription.endpoint,
        content=b" " * (MAX_NOTIFICATION_BYTES + 1),
        headers={**subscription.headers, "Authorization": ""},
    )
    assert answer.status_code == 413
    assert answer.json()["issue"][0]["code"] == "too-costly"


async def test_a_lost_notification_is_recovered_by_reconciliation(
    reconciling: PasGateway,
) -> None:
    await reconciling.subscribed()
    reconciling.payer.drop_notifications()
    case_id = await reconciling.submit("lost")
    case = await reconciling.wait_for(case_id, "approved", timeout=30)
    assert case["decision"]["auth_number"]
    report = reconciling.payer.report()["totals"]
    assert report["notifications_sent"] == 0
    assert report["notifications_dropped"] == 1
    # One overdue inquiry found the decision; no stream of them while it was pended.
    assert 1 <= report["inquiries"] <= 3


@pytest.mark.parametrize("canary", ["Zqcanaryfamily"])
async def test_no_phi_in_the_logs(
    notified: PasGateway, canary: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await notified.subscribed()
    case_id = await notified.submit("phi", family=canary)
    await notified.wait_for(case_id, "approved")
    [subscription] = notified.payer.subscriptions()
    await notified.api.post(
        subscription.endpoint,
        content=json.dumps({"resourceType": "Bundle", "type": canary}).encode(),
        headers={**subscription.headers, "Authorization": ""},
    )
    captured = capsys.readouterr()
    assert canary not in captured.out
    assert canary not in captured.err
