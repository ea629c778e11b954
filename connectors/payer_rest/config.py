"""Configuration of one payer REST API endpoint."""

from __future__ import annotations

from pydantic import Field

from connectors.contract import ConnectorConfig
from connectors.http import EndpointUrl, TlsConfig
from connectors.oauth import OAuthClientConfig


class PayerRestConfig(ConnectorConfig):
    base_url: EndpointUrl = Field(description="The API root, e.g. https://api.payer.example")
    auth: OAuthClientConfig
    tls: TlsConfig = Field(
        default_factory=TlsConfig, description="Applies to the token endpoint and the API."
    )
