"""The EHR sandbox's orders read back, through the gateway's own mapping, to the requests they
were made from: the demo and the benchmark send the backlog over MLLP on the strength of this."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canonical.cases import PriorAuthorizationRequest
from connectors.hl7v2_mllp.orders import order_message
from gateway.demo.backlog import backlog
from mappings.hl7v2 import PriorAuthorizationOrder, read_inbound


@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_orders_map_back_to_their_requests(seed: int) -> None:
    for n, body in enumerate(backlog(40, seed=seed)):
        sent = PriorAuthorizationRequest.model_validate(body)
        message = order_message(
            sent, control_id=f"T{n}", placer_prefix=f"T{n}", at=datetime.now(UTC)
        )
        event = read_inbound(message).event
        assert isinstance(event, PriorAuthorizationOrder)
        got = event.request
        assert event.placer_order_numbers == [
            f"T{n}-{line.sequence}" for line in sent.service_lines
        ]
        assert (got.patient, got.payer, got.coverage.member_id, got.urgency) == (
            sent.patient,
            sent.payer,
            sent.coverage.member_id,
            sent.urgency,
        )
        assert [d.code for d in got.diagnoses] == [d.code for d in sent.diagnoses]
        assert [
            (line.procedure_code, line.units, line.service_period) for line in got.service_lines
        ] == [(line.procedure_code, line.units, line.service_period) for line in sent.service_lines]
