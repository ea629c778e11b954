"""HL7 v2 over MLLP: the framing, a listener for EHR messages, a sender, and an EHR sandbox.

Transport only: what a message means is `mappings.hl7v2`'s business, and whether it is stored
is the handler's, which the listener is given.
"""

from connectors.hl7v2_mllp.allow import AllowedSender
from connectors.hl7v2_mllp.client import (
    AckTimeout,
    MllpClient,
    MllpClientError,
    NotConnected,
    TlsRefused,
)
from connectors.hl7v2_mllp.config import Hl7v2MllpConfig
from connectors.hl7v2_mllp.connector import NOTIFY, DecisionNotice, Hl7v2MllpConnector
from connectors.hl7v2_mllp.framing import (
    FrameTooLarge,
    FramingError,
    MllpReader,
    TruncatedFrame,
    frame,
    write_message,
)
from connectors.hl7v2_mllp.listener import Handler, MllpListener, Peer
from connectors.hl7v2_mllp.tls import client_tls_context, server_tls_context

__all__ = [
    "NOTIFY",
    "AckTimeout",
    "AllowedSender",
    "DecisionNotice",
    "FrameTooLarge",
    "FramingError",
    "Handler",
    "Hl7v2MllpConfig",
    "Hl7v2MllpConnector",
    "MllpClient",
    "MllpClientError",
    "MllpListener",
    "MllpReader",
    "NotConnected",
    "Peer",
    "TlsRefused",
    "TruncatedFrame",
    "client_tls_context",
    "frame",
    "server_tls_context",
    "write_message",
]
