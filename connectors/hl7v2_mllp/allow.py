"""Which senders a listener takes messages from: MSH-3, optionally MSH-4, and a client network.

Checked before the handler sees a message, so an unknown system can never open a case; the
refusal is an AR naming the MSH field (or the address) that failed, never the value.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from mappings.hl7v2 import Segment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SENDING_APPLICATION = 3
SENDING_FACILITY = 4


@dataclass(frozen=True, slots=True)
class AllowedSender:
    """One sending system: its MSH-3 namespace id, its MSH-4 (any when None), and the networks
    it connects from (any when empty)."""

    application: str
    facility: str | None = None
    networks: tuple[Network, ...] = ()

    def admits_address(self, host: str) -> bool:
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a sender was refused: the MSH field that failed, or None when only its address did."""

    field: int | None


def refusal(allowed: Sequence[AllowedSender], header: Segment | None, host: str) -> Refusal | None:
    """None when some allowed sender matches the message's MSH-3, MSH-4 and the client address."""
    application = header.value(SENDING_APPLICATION) if header is not None else ""
    facility = header.value(SENDING_FACILITY) if header is not None else ""
    by_application = [a for a in allowed if a.application == application]
    if not by_application:
        return Refusal(SENDING_APPLICATION)
    by_facility = [a for a in by_application if a.facility in (None, facility)]
    if not by_facility:
        return Refusal(SENDING_FACILITY)
    if not any(a.admits_address(host) for a in by_facility):
        return Refusal(None)
    return None
