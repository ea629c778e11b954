"""The packs in force, by payer, and the one call the gateway makes: decide a case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from canonical.cases import payer_of
from policies.decision import PolicyCase, PolicyDecision
from policies.errors import NoPackForPayer
from policies.evaluate import decide
from policies.pack import Pack

DEFAULT_PAYER = "*"


@dataclass(frozen=True)
class PolicyBook:
    """An immutable snapshot: a reload builds a new book, so a decision never sees half a pack."""

    packs: Mapping[str, Pack] = field(default_factory=dict)

    def pack_for(self, payer_id: str) -> Pack:
        """The payer's own pack, else the default pack."""
        pack = self.packs.get(payer_id) or self.packs.get(DEFAULT_PAYER)
        if pack is None:
            raise NoPackForPayer(payer_id)
        return pack

    def decide(self, case: PolicyCase) -> PolicyDecision:
        return decide(self.pack_for(payer_of(case.payload)), case)
