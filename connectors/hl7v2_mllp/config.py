"""Configuration of one EHR's MLLP endpoint for outbound decision messages."""

from __future__ import annotations

from pydantic import Field

from connectors.contract import ConnectorConfig
from connectors.http import TlsConfig
from mappings.hl7v2 import DecisionForm


class Hl7v2MllpConfig(ConnectorConfig):
    host: str = Field(min_length=1, description="The EHR interface engine's MLLP host.")
    port: int = Field(ge=1, le=65535)
    tls: TlsConfig | None = Field(default=None, description="None: plain TCP (a trusted LAN).")
    server_hostname: str | None = Field(
        default=None, description="The name the listener's certificate carries, when not host."
    )
    ack_timeout_seconds: float = Field(default=30, gt=0, le=600)
    resends: int = Field(default=2, ge=0, le=10, description="Resends after an ACK timeout.")
    form: DecisionForm = DecisionForm.order_status
    sending_application: str = "CASEGATE"
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    processing_id: str = Field(default="P", pattern="^[PTD]$")
    version: str = "2.5.1"
