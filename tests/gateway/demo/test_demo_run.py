"""The demo composes every flow, settles its backlog and reports no loss."""

from pathlib import Path

import pytest

from gateway.demo.flows import demo_flows
from gateway.demo.run import _shares, run_demo
from gateway.settings import Settings


def test_the_backlog_is_shared_by_weight_without_losing_a_case() -> None:
    flows = demo_flows()
    for count in (1, 7, 100, 501):
        shares = _shares(count, flows)
        assert sum(shares) == count
        assert all(share >= 0 for share in shares)


@pytest.mark.slow
async def test_a_small_demo_settles_every_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unsettled = await run_demo(Settings(home=tmp_path), count=40, concurrency=8)
    out = capsys.readouterr().out
    assert unsettled == 0
    assert "lost: 0" in out
    assert "dead letters: 0" in out
    for flow in demo_flows():
        assert flow.name in out
