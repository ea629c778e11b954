"""Decisions of the shipped packs: the payer's pack decides, and every answer is explained."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from canonical.cases import CaseType
from gateway.demo.backlog import backlog
from policies.book import PolicyBook
from policies.decision import HoldKind, PolicyCase, PolicyDecision
from policies.errors import NoPackForPayer
from tests.policies.conftest import RECEIVED, case, line, payload


def fired(decision: PolicyDecision) -> list[tuple[str, int | None]]:
    return [(rule.rule_id, rule.line) for rule in decision.fired]


def test_each_payer_is_decided_by_its_own_pack_and_others_by_the_default(
    shipped_book: PolicyBook,
) -> None:
    knee = {"service_lines": [line("27447", "22")]}
    packs = {
        payer: shipped_book.decide(case(payload(payer, **knee))).pack_id
        for payer in ("ACMEHP", "BLUEMESA", "SUNCOAST", "NOPACK")
    }
    assert packs == {
        "ACMEHP": "acmehp",
        "BLUEMESA": "bluemesa",
        "SUNCOAST": "suncoast",
        "NOPACK": "default",
    }


def test_a_decision_records_the_pack_version_digest_and_the_rules_that_fired(
    shipped_book: PolicyBook,
) -> None:
    decision = shipped_book.decide(case(payload("ACMEHP")))
    pack = shipped_book.pack_for("ACMEHP")
    assert (decision.pack_id, decision.pack_version, decision.pack_digest) == (
        "acmehp",
        pack.version,
        pack.digest,
    )
    assert fired(decision) == [
        ("ACME-PA-JOINT", 1),
        ("ACME-DOC-JOINT", 1),
        ("ACME-HOLD-FIELDS", 1),
        ("ACME-ROUTE-ANY", None),
        ("ACME-CLOCK-STANDARD", None),
    ]
    assert all(rule.source.startswith("acmehp.yaml:") for rule in decision.fired)
    assert decision.fired[0].explanation == (
        "procedure in 27130, 27447 (case: 27447) -> prior authorization required. Hip and knee"
        " replacement are reviewed against Acme's joint surgery criteria."
    )


def test_routes_differ_by_payer(shipped_book: PolicyBook) -> None:
    routes = {
        payer: [str(t) for t in shipped_book.decide(case(payload(payer))).route]
        for payer in ("ACMEHP", "BLUEMESA", "SUNCOAST")
    }
    assert routes == {
        "ACMEHP": ["channel:fhir_pas", "channel:x12_278"],
        "BLUEMESA": ["channel:x12_278"],
        "SUNCOAST": ["channel:payer_rest", "channel:x12_278"],
    }


def test_completeness_lists_what_is_missing_per_line_and_holds_for_intake(
    shipped_book: PolicyBook,
) -> None:
    lines = [line("27447", "22"), line("29881", "22", sequence=2)]
    decision = shipped_book.decide(case(payload("BLUEMESA", service_lines=lines)))
    assert decision.auth_required_lines == [1, 2]
    assert not decision.complete
    assert [(str(m), m.lines, m.rule_ids) for m in decision.missing] == [
        ("attachment:09", [1, 2], ["BM-DOC-SURGERY"]),
        ("field:rendering_provider", [], ["BM-DOC-SURGERY"]),
        ("field:facility", [], ["BM-DOC-SURGERY"]),
    ]
    assert [(h.hold, h.queue, h.detail) for h in decision.hold_reasons] == [
        (HoldKind.missing_documents, "bm-intake", "1 missing: 09"),
        (HoldKind.missing_fields, "bm-intake", "2 missing: rendering_provider, facility"),
    ]


def test_an_attached_document_and_the_named_fields_complete_a_case(
    shipped_book: PolicyBook,
) -> None:
    attachment = {
        "kind": "09",
        "media_type": "application/pdf",
        "title": "Progress notes",
        "size": 10,
        "sha256": "0" * 64,
    }
    provider = {"npi": "1830166132", "name": "Demo Surgeon"}
    facility = {"npi": "1860913908", "name": "Demo Hospital"}
    document = payload(
        "BLUEMESA", attachments=[attachment], rendering_provider=provider, facility=facility
    )
    decision = shipped_book.decide(case(document))
    assert (decision.complete, decision.missing, decision.hold_for_human) == (True, [], False)


@pytest.mark.parametrize(
    ("ndc", "required", "route"),
    [
        ("57894-0030-01", True, "channel:payer_rest"),
        ("57894003001", True, "channel:payer_rest"),
        ("00002-7510-01", False, "channel:payer_rest"),
    ],
)
def test_a_drug_class_is_found_by_ndc_product(
    shipped_book: PolicyBook, ndc: str, required: bool, route: str
) -> None:
    drug_line = line("J1745", "19", drug={"ndc": ndc, "quantity": 4})
    decision = shipped_book.decide(case(payload("ACMEHP", service_lines=[drug_line])))
    assert decision.auth_required is required
    assert str(decision.route[0]) == route
    expected = "ACME-PA-BIOLOGIC" if required else "ACME-PA-INJECTABLES"
    assert fired(decision)[0] == (expected, 1)


def test_a_case_without_service_lines_is_decided_as_one_empty_line(
    shipped_book: PolicyBook,
) -> None:
    eligibility = {
        "patient": {"given": "Avery", "family": "Testperson", "birth_date": "1970-01-01"},
        "coverage": {"member_id": "W000000001"},
        "payer": {"id": "ACMEHP", "name": "Acme Health Plan"},
        "provider": {"npi": "1260181593", "name": "Demo Clinic"},
        "as_of": "2026-03-02",
    }
    decision = shipped_book.decide(case(eligibility, CaseType.eligibility_check))
    assert (decision.auth_required, decision.auth_required_lines) == (False, [])
    assert fired(decision)[0] == ("ACME-PA-NONE", None)


def test_an_estimated_amount_over_the_threshold_needs_an_approver(
    shipped_book: PolicyBook,
) -> None:
    cheap = shipped_book.decide(case(payload("SUNCOAST"), estimated_amount=Decimal("19999.99")))
    dear = shipped_book.decide(case(payload("SUNCOAST"), estimated_amount=Decimal("20000")))
    assert HoldKind.amount_over_threshold not in {h.hold for h in cheap.hold_reasons}
    (approval,) = [h for h in dear.hold_reasons if h.hold is HoldKind.amount_over_threshold]
    assert (approval.queue, approval.role, approval.detail) == (
        "approvals",
        "finance_approver",
        "amount 20000",
    )


def test_no_pack_and_no_default_is_a_clear_error() -> None:
    with pytest.raises(NoPackForPayer, match="no policy pack for payer ACMEHP"):
        PolicyBook().decide(case(payload("ACMEHP")))


def test_a_payload_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValueError, match="payload is not a eligibility_check request"):
        PolicyCase(
            case_type=CaseType.eligibility_check,
            payload=case(payload()).payload,
            received_at=RECEIVED,
        )


def test_a_decision_survives_a_json_round_trip(shipped_book: PolicyBook) -> None:
    decision = shipped_book.decide(case(payload("BLUEMESA", urgency="expedited")))
    stored = decision.model_dump_json()
    assert PolicyDecision.model_validate_json(stored) == decision
    assert '"decide_within":"48 hours"' in stored


def test_follow_ups_keep_the_local_hour_across_a_dst_change(shipped_book: PolicyBook) -> None:
    decision = shipped_book.decide(case(payload("ACMEHP")))
    pended = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 09:00 in Chicago, before DST
    times = decision.follow_up_times(pended)
    assert len(times) == 7
    assert [t.isoformat() for t in times[:3]] == [
        "2026-03-07T15:00:00+00:00",
        "2026-03-08T14:00:00+00:00",
        "2026-03-09T14:00:00+00:00",
    ]


def test_the_demo_backlog_is_decided_with_holds_and_routes_by_payer(
    shipped_book: PolicyBook,
) -> None:
    cases = backlog(300, seed=7, today=date(2026, 3, 2))
    decisions = [shipped_book.decide(case(document)) for document in cases]
    held = [d for d in decisions if d.hold_for_human]
    assert 0 < len(held) < len(decisions)
    assert {d.pack_id for d in decisions} == {"acmehp", "bluemesa", "suncoast"}
    assert {tuple(map(str, d.route)) for d in decisions} >= {
        ("channel:fhir_pas", "channel:x12_278"),
        ("channel:x12_278",),
        ("channel:payer_rest", "channel:x12_278"),
    }
    assert all(d.escalation and d.fired for d in decisions)
