"""The wire format of a payer's JSON REST prior-authorization API (`payer_rest.json/v1`).

Pure conversions, no I/O: the connector in `connectors.payer_rest` moves the bytes.
"""

from mappings.payer_rest.request import build_submission
from mappings.payer_rest.response import PayerResponseError, parse_decision, render_decision
from mappings.payer_rest.vocabulary import WIRE_FORMAT

__all__ = [
    "WIRE_FORMAT",
    "PayerResponseError",
    "build_submission",
    "parse_decision",
    "render_decision",
]
