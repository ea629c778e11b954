"""Everything auth contributes to the Litestar app, mounted with one plugin, so that the token
endpoint, the bearer middleware and the dev client are wired the same way everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin

from gateway.auth.issuer import issuer_router
from gateway.auth.keys import IssuerKey, dev_client, load_or_create_issuer_key
from gateway.auth.middleware import DEFAULT_EXCLUDED_PATHS, bearer_auth_middleware
from gateway.auth.ratelimit import ClientRateLimiter
from gateway.auth.settings import AuthSettings, ClientSettings
from gateway.auth.verifier import TokenVerifier
from gateway.problems import EXCEPTION_HANDLERS


class AuthPlugin(InitPlugin):
    """Token endpoint (embedded issuer only), bearer middleware, rate limit, problem handlers.

    Creating it creates the issuer key and the dev client secret under ``home/keys`` on first
    start. The dev client is registered only with the embedded issuer, and not at all when
    ``with_dev_client`` is false (a deployment that wants no shared development credential).
    """

    def __init__(
        self,
        settings: AuthSettings,
        home: Path,
        *,
        with_dev_client: bool = True,
        exclude: Sequence[str] = DEFAULT_EXCLUDED_PATHS,
    ) -> None:
        self.settings = settings
        self.issuer_key: IssuerKey | None = (
            load_or_create_issuer_key(home) if settings.embedded_issuer else None
        )
        self.clients: list[ClientSettings] = list(settings.clients)
        configured = {client.client_id for client in self.clients}
        if self.issuer_key is not None and with_dev_client:
            development = dev_client(home)
            if development.client_id not in configured:
                self.clients.append(development)
        self.verifier = TokenVerifier.from_settings(settings, self.issuer_key, clients=self.clients)
        self.rate_limiter = ClientRateLimiter(settings.rate_limit_per_second, settings.burst)
        self._exclude = tuple(exclude)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        if self.issuer_key is not None:
            app_config.route_handlers.append(
                issuer_router(self.settings, self.issuer_key, self.clients)
            )
        app_config.middleware.append(
            bearer_auth_middleware(self.verifier, self.rate_limiter, exclude=self._exclude)
        )
        for exception_type, handler in EXCEPTION_HANDLERS.items():
            app_config.exception_handlers.setdefault(exception_type, handler)
        return app_config
