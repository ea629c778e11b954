"""When the connector a case is routed to is down, the send moves to the next route of the
decision, with an event saying so, and reaches the payer once."""

from __future__ import annotations

from connectors.sandbox import Fault
from tests.gateway.orchestration.conftest import LiveGateway, example, post_case


async def test_a_send_to_a_connector_that_is_down_goes_to_the_fallback(
    rerouting: LiveGateway,
) -> None:
    case_id = str((await post_case(rerouting.api, "reroute-1", example()))["id"])
    case = await rerouting.wait_for(case_id, {"approved"})
    assert case["route"] == "acme"
    [moved] = [e for e in await rerouting.events(case_id) if e["type"] == "case.rerouted"]
    assert (moved["data"]["from"], moved["data"]["to"]) == ("fhir_gateway", "acme")
    assert rerouting.payer.effects(f"{case_id}:prior_auth.submit") == 1


async def test_a_faulted_fallback_is_retried_in_place_once_no_route_is_left(
    rerouting: LiveGateway,
) -> None:
    rerouting.payer.inject(Fault.unavailable, 2)
    case_id = str((await post_case(rerouting.api, "reroute-2", example()))["id"])
    await rerouting.wait_for(case_id, {"approved"})
    events = await rerouting.events(case_id)
    assert [e["data"]["to"] for e in events if e["type"] == "case.rerouted"] == ["acme"]
    assert rerouting.payer.effects(f"{case_id}:prior_auth.submit") == 1
