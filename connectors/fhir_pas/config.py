"""Configuration of one payer FHIR endpoint that speaks Da Vinci PAS."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from connectors.contract import ConnectorConfig
from connectors.http import EndpointUrl, TlsConfig
from connectors.oauth import OAuthClientConfig


class FhirPasConfig(ConnectorConfig):
    base_url: EndpointUrl = Field(description="The FHIR base, e.g. https://fhir.payer.example/r4")
    auth: OAuthClientConfig = Field(
        description="SMART Backend Services: private_key_jwt with the gateway's own key."
    )
    tls: TlsConfig = Field(
        default_factory=TlsConfig, description="Applies to the token endpoint and the FHIR API."
    )

    @model_validator(mode="after")
    def _smart_backend_services(self) -> Self:
        # SMART Backend Services authenticates clients by signed assertion only; a shared
        # secret would be refused by a conforming payer, so it is refused here first.
        if self.auth.auth_method != "private_key_jwt":
            raise ValueError("auth.auth_method must be private_key_jwt (SMART Backend Services)")
        return self
