"""The flows `casegate demo` runs, in the order their routes are added to the settings."""

from __future__ import annotations

from gateway.demo.erp_flow import ErpFlow
from gateway.demo.events_flow import EventsFlow
from gateway.demo.fhir_facade_flow import FhirFacadeFlow
from gateway.demo.fhir_flow import FhirPasFlow
from gateway.demo.flow import DemoFlow
from gateway.demo.hl7_flow import Hl7Flow
from gateway.demo.payer_rest_flow import PayerRestFlow
from gateway.demo.policy_flow import PolicyFlow
from gateway.demo.x12_flow import X12Flow


def demo_flows() -> list[DemoFlow]:
    return [
        PayerRestFlow(),
        FhirPasFlow(),
        X12Flow(),
        Hl7Flow(),
        FhirFacadeFlow(),
        PolicyFlow(),
        ErpFlow(),
        EventsFlow(),
    ]
