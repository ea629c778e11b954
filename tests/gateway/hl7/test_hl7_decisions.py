"""A case an EHR order opened is decided at the payer, and the decision goes back to that EHR as
an HL7 order-status message naming its order, sent once per decision through the outbox."""

from __future__ import annotations

import pytest

from connectors.hl7v2_mllp.sandbox import StatusReceiver
from mappings.hl7v2 import parse
from tests.gateway.hl7.conftest import Hl7Gateway, sent_order


async def test_the_decision_reaches_the_ehr_that_ordered(
    live: Hl7Gateway, ehr: StatusReceiver, order: bytes
) -> None:
    ack = await live.send(sent_order(order))
    assert parse(ack).segments[1].value(1) == "CA"

    async def notified() -> bool:
        return await live.count("outbox_jobs", "kind = 'hl7.notify' AND status = 'done'") == 1

    await live.wait_for(notified)
    [(case_id, status)] = await live.rows("SELECT id, status FROM cases")
    assert status == "approved"
    [received] = ehr.received
    message = parse(received.message)
    assert message.header.value(9, 1) == "ORM"
    orc = message.first("ORC")
    assert orc is not None
    assert (orc.value(1), orc.value(2), orc.value(3)) == ("SC", "ORD-2026-0001", case_id)
    assert orc.value(16) == "A1"  # certified in total
    assert ehr.duplicates == {}
    # The notice and the EHR's ACK are kept with the case.
    assert await live.count("messages", f"case_id = '{case_id}' AND format = 'hl7v2'") == 3


@pytest.mark.parametrize("decision_form", ["result_with_zau"])
async def test_a_site_that_takes_results_gets_an_oru_with_zau(
    live: Hl7Gateway, ehr: StatusReceiver, order: bytes
) -> None:
    await live.send(sent_order(order))

    async def notified() -> bool:
        return len(ehr.received) == 1

    await live.wait_for(notified)
    message = parse(ehr.received[0].message)
    assert message.header.value(9, 1) == "ORU"
    zau = message.first("ZAU")
    assert zau is not None
    [(case_id,)] = await live.rows("SELECT id FROM cases")
    assert (zau.value(2), zau.value(3), zau.value(9)) == ("A1", "approved", case_id)
