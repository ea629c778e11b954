"""Configuration of one clearinghouse: who we are to it, and how we reach it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.contract import ConnectorConfig
from connectors.http import EndpointUrl, TlsConfig
from connectors.oauth import OAuthClientConfig
from connectors.secrets import SecretRef

IsaId = Annotated[str, Field(min_length=1, max_length=15, pattern=r"^[A-Za-z0-9 ._-]+$")]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TradingPartner(_Part):
    """ISA05/06 (or 07/08) and the GS application code of one side of the interchange."""

    id: IsaId
    qualifier: str = Field(default="ZZ", pattern=r"^[A-Z0-9]{2}$")
    application: str | None = Field(default=None, min_length=2, max_length=15)


class RealTimeAuth(_Part):
    """client_secret: CORE's UserName/Password envelope fields; oauth2: a bearer token by
    client credentials; mutual_tls: the client certificate in `tls` is the credential."""

    method: Literal["client_secret", "oauth2", "mutual_tls"]
    username: str | None = Field(default=None, min_length=1, max_length=100)
    password: SecretRef | None = None
    oauth: OAuthClientConfig | None = None

    @model_validator(mode="after")
    def _credentials_for_method(self) -> Self:
        if self.method == "client_secret" and (self.username is None or self.password is None):
            raise ValueError("client_secret needs username and password")
        if self.method == "oauth2" and self.oauth is None:
            raise ValueError("oauth2 needs oauth")
        return self


class RealTimeConfig(_Part):
    url: EndpointUrl = Field(description="The CORE real-time endpoint (HTTP MIME multipart).")
    auth: RealTimeAuth
    tls: TlsConfig = Field(default_factory=TlsConfig)

    @model_validator(mode="after")
    def _certificate_for_mutual_tls(self) -> Self:
        if self.auth.method == "mutual_tls" and self.tls.client_cert is None:
            raise ValueError("mutual_tls needs tls.client_cert and tls.client_key")
        return self


class SftpConfig(_Part):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=100)
    password: SecretRef | None = None
    private_key: SecretRef | None = Field(default=None, description="OpenSSH/PEM private key.")
    host_key: str | None = Field(
        default=None, description="The server's public key (OpenSSH form) to pin."
    )
    known_hosts: Path | None = None

    @model_validator(mode="after")
    def _credentials_and_host_trust(self) -> Self:
        if self.password is None and self.private_key is None:
            raise ValueError("sftp needs password or private_key")
        if self.host_key is None and self.known_hosts is None:
            raise ValueError("sftp needs host_key or known_hosts: the server must be verified")
        return self


class BatchConfig(_Part):
    """Files by SFTP, or in a directory both sides watch (a share or a transfer agent's)."""

    sftp: SftpConfig | None = None
    directory: Path | None = None
    upload_dir: str = Field(default="inbound", min_length=1, max_length=200)
    response_dir: str = Field(default="responses", min_length=1, max_length=200)
    report_dir: str = Field(
        default="outbound", min_length=1, max_length=200, description="Where 835/277 files wait."
    )
    poll_seconds: float = Field(default=0.5, gt=0, le=60)

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if (self.sftp is None) == (self.directory is None):
            raise ValueError("batch takes either sftp or directory")
        return self


class X12ClearinghouseConfig(ConnectorConfig):
    sender: TradingPartner = Field(description="casegate, as the clearinghouse knows it.")
    receiver: TradingPartner = Field(description="The clearinghouse.")
    usage: Literal["P", "T"] = "T"
    realtime: RealTimeConfig | None = None
    batch: BatchConfig | None = None
    prefer: Literal["realtime", "batch"] = Field(
        default="realtime", description="Transport for sends when both are configured."
    )

    @model_validator(mode="after")
    def _a_transport(self) -> Self:
        if self.realtime is None and self.batch is None:
            raise ValueError("configure realtime, batch or both")
        return self
