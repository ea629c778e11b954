"""The flows `casegate demo` runs, in the order their routes are added to the settings."""

from __future__ import annotations

from gateway.demo.flow import DemoFlow
from gateway.demo.payer_rest_flow import PayerRestFlow


def demo_flows() -> list[DemoFlow]:
    return [PayerRestFlow()]
