"""X12 5010: the codec, transaction descriptions, acknowledgments and canonical mappings.

Pure: bytes and values in, bytes and values out. The clearinghouse connector moves the bytes,
keeps the control-number counters and de-duplicates interchanges; this package only reads,
validates, builds and maps them.
"""

from mappings.x12.ack_999 import Acknowledgment, build_999, read_999
from mappings.x12.ack_ta1 import InterchangeAcknowledgment, build_ta1, read_ta1, ta1_for_unreadable
from mappings.x12.body_writer import LeftOut
from mappings.x12.delimiters import Delimiters, read_delimiters
from mappings.x12.envelope import Interchange, parse_interchanges, read_interchanges
from mappings.x12.envelope_builder import (
    Group,
    InterchangeHeader,
    Party,
    Transaction,
    build_interchange,
    reply_header,
)
from mappings.x12.errors import CanonicalMappingError, Location, X12Error
from mappings.x12.prior_auth_request import build_278_request, request_body
from mappings.x12.prior_auth_request_reader import read_278_request
from mappings.x12.prior_auth_response import Rejection, ReviewResponse, read_278_response
from mappings.x12.prior_auth_response_builder import response_body
from mappings.x12.segments import Segment, build, iter_segments, parse_segments, serialize
from mappings.x12.validation import CheckedInterchange, CheckedTransaction, check, read

__all__ = [
    "Acknowledgment",
    "CanonicalMappingError",
    "CheckedInterchange",
    "CheckedTransaction",
    "Delimiters",
    "Group",
    "Interchange",
    "InterchangeAcknowledgment",
    "InterchangeHeader",
    "LeftOut",
    "Location",
    "Party",
    "Rejection",
    "ReviewResponse",
    "Segment",
    "Transaction",
    "X12Error",
    "build",
    "build_278_request",
    "build_999",
    "build_interchange",
    "build_ta1",
    "check",
    "iter_segments",
    "parse_interchanges",
    "parse_segments",
    "read",
    "read_278_request",
    "read_278_response",
    "read_999",
    "read_delimiters",
    "read_interchanges",
    "read_ta1",
    "reply_header",
    "request_body",
    "response_body",
    "serialize",
    "ta1_for_unreadable",
]
