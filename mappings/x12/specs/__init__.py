"""The transactions casegate reads and validates, found by set id and implementation guide."""

from __future__ import annotations

from collections.abc import Sequence

from mappings.x12.schema import TransactionSpec
from mappings.x12.segments import Segment
from mappings.x12.specs.x212_claim_status import STATUS_REQUEST as X212_276
from mappings.x12.specs.x212_claim_status import STATUS_RESPONSE as X212_277
from mappings.x12.specs.x217_request import REQUEST as X217_REQUEST
from mappings.x12.specs.x217_response import RESPONSE as X217_RESPONSE
from mappings.x12.specs.x221_835 import PAYMENT as X221_835
from mappings.x12.specs.x222_x223_claims import CLAIM_INSTITUTIONAL as X223_837I
from mappings.x12.specs.x222_x223_claims import CLAIM_PROFESSIONAL as X222_837P
from mappings.x12.specs.x231_999 import ACKNOWLEDGMENT as X231_999
from mappings.x12.specs.x279_eligibility import BENEFITS as X279_271
from mappings.x12.specs.x279_eligibility import INQUIRY as X279_270

SPECS: tuple[TransactionSpec, ...] = (
    X217_REQUEST,
    X217_RESPONSE,
    X221_835,
    X231_999,
    X279_270,
    X279_271,
    X212_276,
    X212_277,
    X222_837P,
    X223_837I,
)


def supported_set_ids() -> frozenset[str]:
    return frozenset(s.set_id for s in SPECS)


def find_spec(set_id: str, reference: str, segments: Sequence[Segment]) -> TransactionSpec | None:
    """The description for a transaction set, or None when casegate does not support it.

    Where one guide describes two transactions under one set id (the 278 request and response),
    the discriminating element decides; failing that, the first is taken and its validation
    reports the bad code.
    """
    candidates = [s for s in SPECS if s.set_id == set_id and s.reference == reference]
    for spec in candidates:
        if spec.discriminator is None:
            return spec
        segment_id, element, codes = spec.discriminator
        for segment in segments[1:4]:
            if segment.id == segment_id and segment.get(element) in codes:
                return spec
    return candidates[0] if candidates else None


__all__ = [
    "SPECS",
    "X212_276",
    "X212_277",
    "X217_REQUEST",
    "X217_RESPONSE",
    "X221_835",
    "X222_837P",
    "X223_837I",
    "X231_999",
    "X279_270",
    "X279_271",
    "find_spec",
    "supported_set_ids",
]
