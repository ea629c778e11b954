"""MDM^T02 -> a document event: the document's identity and an attachment (type, size, sha256).

The document is either one encapsulated OBX (value type ED: a PDF, an image, base64 or hex
encoded) or the lines of text OBXs (TX, FT, ST), which make a text/plain document. The bytes
themselves stay in the raw message the gateway stores; `document_content` reads them back out
when a payer needs the attachment.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable
from typing import NamedTuple

from canonical.clinical import MAX_ATTACHMENT_BYTES, Attachment
from mappings.hl7v2.codec import Message, leaf
from mappings.hl7v2.errors import ErrorCode, Location
from mappings.hl7v2.events import DocumentEvent
from mappings.hl7v2.patients import mrn
from mappings.hl7v2.reading import Findings, Placed, placed
from mappings.hl7v2.vocabulary import DOCUMENT_TYPES, MEDIA_TYPES

TEXT_TYPES = frozenset({"TX", "FT", "ST"})
DEFAULT_KIND = "M1"  # X12 PWK01: medical record attachment


class _Content(NamedTuple):
    data: bytes
    media_type: str
    where: Location  # the data
    media_where: Location  # what says its media type


def map_document(message: Message) -> DocumentEvent:
    segments = placed(message)
    findings = Findings()
    txa = next(s for s in segments if s.id == "TXA")
    document_type = txa.value(2, 1)
    document_id = txa.value(12, 1)
    if not document_type:
        findings.missing(txa.at(2), "the document type")
    if not document_id:
        findings.missing(txa.at(12, 1), "the unique document number")
    content = _content(message, segments, findings)
    if len(content.data) > MAX_ATTACHMENT_BYTES:
        limit = MAX_ATTACHMENT_BYTES // (1024 * 1024)
        findings.add(content.where, ErrorCode.value_too_long, f"the document exceeds {limit} MB")
    findings.check()
    kind, title = DOCUMENT_TYPES.get(
        document_type.upper(), (DEFAULT_KIND, f"Clinical document ({document_type})")
    )
    attachment = findings.build(
        Attachment,
        {
            "kind": kind,
            "media_type": content.media_type,
            "title": title,
            "size": len(content.data),
            "sha256": hashlib.sha256(content.data).hexdigest(),
        },
        {"title": txa.at(2), "media_type": content.media_where},
        content.where,
    )
    pid = next((s for s in segments if s.id == "PID"), None)
    data = {
        "document_id": document_id,
        "document_type": document_type,
        "completion_status": txa.value(17, 1) or None,
        "placer_order_numbers": [leaf(r, 1) for r in txa.repetitions(14) if leaf(r, 1)],
        "patient_mrn": mrn(pid) if pid else None,
        "attachment": attachment,
    }
    sources = {
        "document_id": txa.at(12, 1),
        "document_type": txa.at(2),
        "completion_status": txa.at(17),
        "placer_order_numbers": txa.at(14),
        "patient_mrn": Location("PID", field=3),
    }
    return findings.build_or_raise(DocumentEvent, data, sources, txa.at())


def document_content(message: Message) -> bytes:
    """The document's bytes, as `map_document` measured and hashed them."""
    return _content(message, placed(message), Findings()).data


def _content(message: Message, segments: list[Placed], findings: Findings) -> _Content:
    """The document, or `Hl7MappingError` with every finding so far and why it cannot be read."""
    observations = [s for s in segments if s.id == "OBX"]
    encapsulated = [s for s in observations if s.value(2) == "ED"]
    if len(encapsulated) > 1:
        findings.invalid(encapsulated[1].at(2), "one MDM^T02 carries one encapsulated document")
        findings.fail()
    if encapsulated:
        return _encapsulated(encapsulated[0], message.charset, findings)
    lines = [s for s in observations if s.value(2) in TEXT_TYPES]
    if not lines:
        findings.missing(Location("OBX", field=5), "the document content (OBX of type ED or TX)")
        findings.fail()
    # TX is one value per repetition; a separator the sender left unescaped is still text.
    d = message.delimiters
    text = "\n".join(
        d.component.join(d.subcomponent.join(c) for c in r)
        for s in lines
        for r in s.repetitions(5) or ((),)
    )
    return _Content(text.encode(), "text/plain", lines[0].at(5), lines[0].at(2))


def _encapsulated(obx: Placed, charset: str, findings: Findings) -> _Content:
    data_type, subtype = obx.value(5, 2).upper(), obx.value(5, 3)
    encoding, data = obx.value(5, 4).upper(), obx.value(5, 5)
    media_type = MEDIA_TYPES.get(subtype.upper()) or (subtype.lower() if "/" in subtype else None)
    if media_type is None:
        findings.unknown(obx.at(5, 3), f"the {data_type or 'document'} subtype is not one we know")
    if not data:
        findings.missing(obx.at(5, 5), "the encapsulated data")
    if encoding not in _DECODERS:
        findings.unknown(obx.at(5, 4), "the encoding must be Base64, Hex or A (none)")
    if media_type is None or not data or encoding not in _DECODERS:
        findings.fail()
    try:
        content = _DECODERS[encoding](data, charset)
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        findings.invalid(obx.at(5, 5), f"the data is not valid {encoding or 'text'}")
        findings.fail()
    return _Content(content, media_type, obx.at(5, 5), obx.at(5, 3))


_DECODERS: dict[str, Callable[[str, str], bytes]] = {
    "BASE64": lambda data, _: binascii.a2b_base64(data, strict_mode=True),
    "B64": lambda data, _: binascii.a2b_base64(data, strict_mode=True),
    "HEX": lambda data, _: binascii.unhexlify(data),
    "A": lambda data, charset: data.encode(charset),
    "": lambda data, charset: data.encode(charset),
}
