"""Da Vinci PAS (FHIR R4) request and response bundles <-> canonical prior authorization.

Pure conversions, no I/O: the connector in `connectors.fhir_pas` and the gateway's PAS facade
move the bytes.
"""

from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.request_builder import build_request_bundle
from mappings.fhir_pas.request_reader import read_request_bundle
from mappings.fhir_pas.response import read_response_bundle, render_response_bundle
from mappings.fhir_pas.vocabulary import outcome_of

__all__ = [
    "Issue",
    "PasMappingError",
    "build_request_bundle",
    "outcome_of",
    "read_request_bundle",
    "read_response_bundle",
    "render_response_bundle",
]
