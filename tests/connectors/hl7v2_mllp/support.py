"""Self-signed certificates, golden messages and a raw MLLP conversation for the tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.hl7v2_mllp.framing import MllpReader, frame
from mappings.hl7v2 import parse

GOLDEN = Path(__file__).parents[2] / "mappings" / "hl7v2" / "golden"


def golden(name: str) -> bytes:
    return (GOLDEN / f"{name}.hl7").read_bytes()


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def make_cert(folder: Path, name: str, issuer: CertFiles | None = None) -> CertFiles:
    """A certificate for `name` (and localhost), self-signed or signed by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_key, signer_name = key, subject
    if issuer is not None:
        loaded = serialization.load_pem_private_key(issuer.key.read_bytes(), None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        signer_key = loaded
        signer_name = x509.load_pem_x509_certificate(issuer.cert.read_bytes()).subject
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .sign(signer_key, hashes.SHA256())
    )
    files = CertFiles(folder / f"{name}.crt", folder / f"{name}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class RawSender:
    """Writes exact bytes and reads ACK frames, with no resend logic in the way."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.frames = MllpReader(reader)
        self.writer = writer

    @classmethod
    async def open(cls, port: int, tls: ssl.SSLContext | None = None) -> RawSender:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls, server_hostname="localhost" if tls else None
        )
        return cls(reader, writer)

    async def send(self, message: bytes, raw: bytes = b"") -> None:
        self.writer.write(raw + frame(message))
        await self.writer.drain()

    async def ack(self, timeout: float = 5.0) -> tuple[str, str, bytes]:
        """MSA-1, MSA-2 and the whole ACK."""
        async with asyncio.timeout(timeout):
            data = await self.frames.read_message()
        assert data is not None, "the listener closed the connection"
        msa = parse(data).first("MSA")
        assert msa is not None
        return msa.value(1), msa.value(2), data

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()
