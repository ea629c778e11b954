"""Configuration of one ERP endpoint."""

from __future__ import annotations

from pydantic import Field, field_validator

from connectors.contract import ConnectorConfig
from connectors.erp.profile import ProfileError, load_profile
from connectors.http import EndpointUrl, TlsConfig
from connectors.oauth import OAuthClientConfig


class ErpConfig(ConnectorConfig):
    base_url: EndpointUrl = Field(description="The service root, e.g. https://erp.example/odata/v4")
    auth: OAuthClientConfig
    profile: str = Field(
        default="odata", description="A shipped profile (odata, rest) or the path of a site's own."
    )
    tls: TlsConfig = Field(default_factory=TlsConfig)

    @field_validator("profile")
    @classmethod
    def _profile_loads(cls, value: str) -> str:
        try:
            load_profile(value)
        except ProfileError as exc:
            raise ValueError(str(exc)) from None
        return value
