"""The export: every kind of entry becomes a valid FHIR R4B AuditEvent line, in chain order."""

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.auditevent import AuditEvent

from gateway.audit.entries import (
    AUDIT_EXPORT,
    access_denied,
    admin_action,
    authentication_rejected,
)
from gateway.audit.export import export_since, parse_instant
from gateway.store.audit import append_audit
from gateway.store.engine import Store
from gateway.store.records import NewAuditEntry
from tests.gateway.audit.support import entry, rows

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DCM = "http://dicom.nema.org/resources/ontology/DCM"


def _kinds() -> list[NewAuditEntry]:
    return [
        entry(1, action="C", detail={"case_type": "prior_authorization"}),  # intake
        entry(2),  # a case read
        entry(3, detail={"event": "case.search", "count": 2, "filters": {"type": None}}),
        entry(4, action="U", outcome="4", case_id=None, detail={"event": "case.not_found"}),
        entry(
            5,
            action="E",
            client_id="worker:w1",
            token_jti=None,
            source_address=None,
            detail={"send": "case.send", "connector": "payer_rest"},
        ),  # a worker send
        authentication_rejected(
            reason="token has expired",
            token_sha256="0123456789abcdef",
            source_address="10.0.0.7",
            method="GET",
            route="/v1/cases/{case_id:str}",
            trace_id=None,
        ),
        access_denied(
            client_id="app-1",
            token_jti="a jti with spaces",
            token_sha256=None,
            source_address="10.0.0.7",
            required_scopes={"cases:write"},
            method="POST",
            route="/v1/cases/{case_id:str}/cancel",
            trace_id=None,
        ),
        admin_action(operator="ops", action="E", event="dlq.replay", detail={"job_ids": [3]}),
    ]


async def _export(store: Store, since: datetime = EPOCH) -> list[AuditEvent]:
    lines: list[str] = []
    async with store.connect() as conn:
        count = await export_since(conn, since, lines.append)
    assert count == len(lines)
    assert all("\n" not in line for line in lines)
    return [AuditEvent.model_validate_json(line) for line in lines]


def _type(event: AuditEvent) -> tuple[str, str]:
    return (event.type.system, event.type.code)


def _detail(event: AuditEvent) -> dict[str, Any]:
    return {d.type: d.valueString for e in event.entity or [] for d in e.detail or []}


async def test_every_kind_of_entry_exports_as_a_valid_audit_event(store: Store) -> None:
    async with store.begin() as conn:
        await append_audit(conn, _kinds())
    events = await _export(store)
    assert [e.id for e in events] == [str(n) for n in range(1, 9)]
    assert [_type(e)[1] for e in events] == [
        "rest", "rest", "rest", "rest", "110106", "110114", "110113", "110100",
    ]  # fmt: skip
    subtypes = [[s.code for s in e.subtype or []] for e in events[:4]]
    assert subtypes == [["create"], ["read"], ["search-type"], ["update"]]
    assert [e.action for e in events] == ["C", "R", "R", "U", "E", "E", "E", "E"]
    assert [e.outcome for e in events] == ["0", "0", "0", "4", "0", "4", "4", "0"]

    read = events[1]
    agent = read.agent[0]
    assert agent.requestor is True
    assert (agent.who.identifier.system, agent.who.identifier.value) == (
        "urn:casegate:client",
        "app-1",
    )
    assert agent.policy == ["jti-1"]
    assert (agent.network.address, agent.network.type) == ("127.0.0.1", "2")
    identifiers = {e.what.identifier.system: e.what.identifier.value for e in read.entity if e.what}
    assert identifiers == {
        "urn:casegate:case": "case-2",
        "urn:casegate:patient-hash": "ab" * 16,
        "urn:casegate:payer": "ACMEHP",
        "urn:casegate:trace-id": "0af7651916cd43dd8448eb211c80319c",
    }
    assert read.purposeOfEvent[0].coding[0].code == "HOPERAT"
    assert read.recorded.tzinfo is not None

    rejected = events[5]
    assert rejected.agent[0].who.display == "unauthenticated caller"
    assert rejected.agent[0].policy is None
    assert rejected.outcomeDesc == "token has expired"
    assert _detail(rejected)["token_sha256"] == "0123456789abcdef"
    assert rejected.purposeOfEvent is None

    denied = events[6]
    assert denied.agent[0].policy == ["a%20jti%20with%20spaces"]
    assert json.loads(_detail(denied)["required_scopes"]) == ["cases:write"]
    assert events[7].purposeOfEvent[0].coding[0].code == "HSYSADMIN"
    assert events[7].agent[0].who.identifier.value == "cli:ops"


async def test_only_entries_recorded_since_the_moment_are_exported(store: Store) -> None:
    async with store.begin() as conn:
        await append_audit(conn, [entry(1), entry(2)])
    await asyncio.sleep(0.02)
    since = datetime.now(UTC)
    async with store.begin() as conn:
        await append_audit(conn, [entry(3)])
    assert [e.id for e in await _export(store, since)] == ["3"]
    assert await _export(store, since + timedelta(hours=1)) == []
    later = [r.recorded for r in await rows(store)]
    assert later == sorted(later)


async def test_a_long_export_pages_through_the_whole_chain(store: Store) -> None:
    async with store.begin() as conn:
        await append_audit(conn, [entry(n) for n in range(1, 1203)])
    events = await _export(store)
    assert len(events) == 1202
    assert events[-1].id == "1202"


async def test_an_export_entry_is_typed_as_audit_log_used(store: Store) -> None:
    async with store.begin() as conn:
        await append_audit(
            conn, [admin_action(operator="ops", action="R", event=AUDIT_EXPORT, detail={})]
        )
    [event] = await _export(store)
    assert _type(event) == (DCM, "110101")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01", datetime(2025, 3, 1, tzinfo=UTC)),
        ("2025-03-01T12:30:00", datetime(2025, 3, 1, 12, 30, tzinfo=UTC)),
        ("2025-03-01T12:30:00Z", datetime(2025, 3, 1, 12, 30, tzinfo=UTC)),
        (
            "2025-03-01T12:30:00+02:00",
            datetime(2025, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_since_takes_iso_dates_and_times(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "", "1700000000"])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_instant(text)
