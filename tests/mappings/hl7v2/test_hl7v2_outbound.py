"""Decisions back to the EHR: ORM status updates and ORU results with a ZAU segment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from canonical.base import Period
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from mappings.hl7v2 import (
    Addressing,
    DecisionForm,
    Message,
    PriorAuthorizationOrder,
    check_structure,
    decision_message,
    parse,
    read_inbound,
)
from tests.mappings.hl7v2.support import golden

AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
TWO_ORDERS = read_inbound(golden("orm-o01-v23-dependent-two-orders")).event
assert isinstance(TWO_ORDERS, PriorAuthorizationOrder)
APPROVED = Decision(
    outcome=DecisionOutcome.approved,
    auth_number="AUTH-7731",
    authorized_period=Period(start=date(2026, 12, 1), end=date(2027, 2, 28)),
    payer_reference="PR-99",
    decided_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
)
PARTIAL = Decision(
    outcome=DecisionOutcome.partially_approved,
    auth_number="AUTH-7732",
    authorized_period=Period(start=date(2026, 12, 1), end=date(2026, 12, 31)),
    items=[
        ItemDecision(sequence=1, action=ReviewAction.certified, authorized_units=Decimal("1")),
        ItemDecision(sequence=2, action=ReviewAction.not_certified, reason_code="N1"),
    ],
    reason_code="MN",
    reason_text="Arthroscopy not medically necessary | policy ^7 & MRI first",
)


def send(decision: Decision, form: DecisionForm, **options: object) -> Message:
    data = decision_message(
        "case-0042",
        TWO_ORDERS.request,
        decision,
        form=form,
        control_id="CG-1",
        at=AT,
        placer_order_numbers=TWO_ORDERS.placer_order_numbers,
        **options,
    )
    return parse(data)


def test_order_status_update_is_a_valid_orm() -> None:
    message = send(APPROVED, DecisionForm.order_status)
    check_structure(message, "ORM_O01", "2.5.1")
    assert [s.id for s in message.segments] == ["MSH", "PID", "IN1", "ORC", "OBR", "ORC", "OBR"]
    assert message.header.field(9) == ((("ORM",), ("O01",), ("ORM_O01",)),)


def test_order_status_says_the_decision_per_order() -> None:
    message = send(APPROVED, DecisionForm.order_status)
    in1 = message.first("IN1")
    assert in1 is not None
    assert in1.field(14) == ((("AUTH-7731",), ("20261121",), ("Blue Lake Health",)),)
    assert in1.value(3) == "BCWI01" and in1.value(36) == "BLH-55512-02"
    orcs = message.all("ORC")
    assert [o.value(1) for o in orcs] == ["SC", "SC"]
    assert [o.value(2) for o in orcs] == ["LH-9001", "LH-9002"]
    assert orcs[0].field(3) == ((("case-0042",), ("CASEGATE",)),)
    assert orcs[0].field(16) == ((("A1",), ("Certified in total",), ("X12DE306",)),)
    assert (orcs[0].value(7, 4), orcs[0].value(7, 5)) == ("20261201", "20270228")
    assert [o.value(4, 1) for o in message.all("OBR")] == ["73721", "29888"]
    assert message.all("OBR")[0].value(4, 3) == "C4"


def test_partial_decision_gives_each_line_its_own_action() -> None:
    message = send(PARTIAL, DecisionForm.order_status)
    assert [o.value(16) for o in message.all("ORC")] == ["A1", "A3"]
    assert message.all("ORC")[0].value(7, 1) == "1"
    nte = message.all("NTE")
    assert [n.value(3) for n in nte] == [PARTIAL.reason_text] * 2


def test_result_with_zau_is_a_valid_oru() -> None:
    message = send(PARTIAL, DecisionForm.result_with_zau)
    check_structure(message, "ORU_R01", "2.5.1")
    assert [s.id for s in message.segments] == [
        *("MSH", "PID"),
        *("ORC", "OBR", "NTE", "ZAU"),
        *("ORC", "OBR", "NTE", "ZAU"),
    ]


def test_zau_carries_number_status_and_dates() -> None:
    message = send(PARTIAL, DecisionForm.result_with_zau)
    first, second = message.all("ZAU")
    assert first.value(1) == "AUTH-7732"
    assert first.field(2) == ((("A1",), ("Certified in total",), ("X12DE306",)),)
    assert second.value(2) == "A3"
    assert first.value(3) == "partially_approved"
    assert (first.value(4), first.value(5)) == ("20261201", "20261231")
    assert first.value(7, 1) == "BCWI01"
    assert first.field(8) == ((("MN",), (PARTIAL.reason_text,)),)
    assert first.field(9) == ((("case-0042",), ("CASEGATE",)),)
    assert first.value(11) == "1" and second.value(11) == ""
    assert [o.value(25) for o in message.all("OBR")] == ["F", "F"]


@pytest.mark.parametrize(
    ("outcome", "status", "action", "order_status"),
    [
        (DecisionOutcome.pended, "P", "A4", ""),
        (DecisionOutcome.more_info_requested, "P", "A4", ""),
        (DecisionOutcome.denied, "F", "A3", ""),
        (DecisionOutcome.cancelled, "X", "C", "CA"),
    ],
)
def test_each_outcome_has_its_codes(
    outcome: DecisionOutcome, status: str, action: str, order_status: str
) -> None:
    decision = Decision(outcome=outcome, reason_code="X" if outcome == "denied" else None)
    result = send(decision, DecisionForm.result_with_zau)
    assert {o.value(25) for o in result.all("OBR")} == {status}
    assert {z.value(2) for z in result.all("ZAU")} == {action}
    assert {z.value(1) for z in result.all("ZAU")} == {""}
    status_update = send(decision, DecisionForm.order_status)
    assert {o.value(5) for o in status_update.all("ORC")} == {order_status}
    in1 = status_update.first("IN1")
    assert in1 is not None and in1.value(14) == ""


def test_addressing_fills_the_header() -> None:
    to = Addressing("CASEGATE", "CG-EAST", "EPIC", "GENHOSP", "T", "2.4")
    header = send(APPROVED, DecisionForm.order_status, addressing=to).header
    assert [header.value(n) for n in (3, 4, 5, 6, 10, 11, 12)] == [
        *("CASEGATE", "CG-EAST", "EPIC", "GENHOSP"),
        *("CG-1", "T", "2.4"),
    ]


def test_every_line_needs_its_order_number() -> None:
    with pytest.raises(ValueError, match="one placer order number per service line"):
        decision_message(
            "case-1",
            TWO_ORDERS.request,
            APPROVED,
            form=DecisionForm.order_status,
            control_id="CG-2",
            at=AT,
            placer_order_numbers=["only-one"],
        )


def test_without_order_numbers_lines_point_at_the_external_reference() -> None:
    data = decision_message(
        "case-1",
        TWO_ORDERS.request,
        APPROVED,
        form=DecisionForm.order_status,
        control_id="C",
        at=AT,
    )
    assert [o.value(2) for o in parse(data).all("ORC")] == ["LH-9001", "LH-9001"]
