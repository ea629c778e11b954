"""TLS contexts for MLLP, from certificate files: TLS 1.2 or later on every hop."""

from __future__ import annotations

import ssl
from pathlib import Path


def server_tls_context(
    certfile: Path, keyfile: Path, client_ca_file: Path | None = None
) -> ssl.SSLContext:
    """Serve TLS; with `client_ca_file`, refuse any client without a certificate it signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certfile), str(keyfile))
    if client_ca_file is not None:
        context.load_verify_locations(cafile=str(client_ca_file))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_tls_context(
    ca_file: Path | None = None, certfile: Path | None = None, keyfile: Path | None = None
) -> ssl.SSLContext:
    """Verify the listener against `ca_file` (the system trust without it); mutual TLS with a
    client certificate."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if (certfile is None) != (keyfile is None):
        raise ValueError("a client certificate and its key go together")
    if certfile is not None and keyfile is not None:
        context.load_cert_chain(str(certfile), str(keyfile))
    return context
