"""The MLLP listener of `casegate serve`, built from the `hl7` settings section."""

from __future__ import annotations

import ssl

from connectors.hl7v2_mllp import MllpListener, server_tls_context
from gateway.hl7.intake import Hl7Intake
from gateway.metrics import GatewayMetrics
from gateway.runtime import Runtime
from gateway.settings import Hl7Settings


def tls_of(settings: Hl7Settings) -> ssl.SSLContext | None:
    if settings.tls_cert_file is None and settings.tls_key_file is None:
        return None
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        raise ValueError("hl7.tls_cert_file and hl7.tls_key_file go together")
    return server_tls_context(
        settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
    )


async def start_hl7_listener(
    runtime: Runtime, metrics: GatewayMetrics | None = None
) -> MllpListener | None:
    """The running listener when `hl7.enabled`; the allow list is checked by the intake, which
    keeps what it refuses."""
    settings = runtime.settings.hl7
    if not settings.enabled:
        return None
    intake = Hl7Intake(runtime, settings, metrics)
    listener = MllpListener(
        intake.handle,
        host=settings.host,
        port=settings.port,
        tls=tls_of(settings),
        idle_timeout_seconds=settings.idle_timeout_seconds,
        max_message_bytes=settings.max_message_bytes,
        too_large=intake.refuse_too_large,
    )
    await listener.start()
    return listener
