"""Turning a posted document into an ERP document, and an ERP record into canonical fields,
as a profile says. Pure functions: no I/O, so the mapping is tested without a server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from connectors.contract import ConnectorRequest
from connectors.erp.profile import DocumentRule, FieldSource, ListMap, RecordLookup

CONST = "const:"


class MappingGap(ValueError):
    """The posted document lacks a value the profile maps; the message is the path only."""


def _walk(node: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def document_key(request: ConnectorRequest, rule: DocumentRule) -> str:
    """One key per request and ERP document, so a resend finds what the first send posted."""
    return f"{request.idempotency_key}/{rule.document}"


def _value(source: FieldSource, request: ConnectorRequest, rule: DocumentRule) -> Any:
    if isinstance(source, ListMap):
        items = _walk(request.payload, source.source.removeprefix("payload."))
        if not isinstance(items, list):
            raise MappingGap(source.source)
        return [_renamed(item, source.fields, source.source) for item in items]
    if source.startswith(CONST):
        return source[len(CONST) :]
    if source == "request.case_id":
        return request.case_id
    if source == "request.document_key":
        return document_key(request, rule)
    if source.startswith("payload."):
        return _walk(request.payload, source[len("payload.") :])
    raise MappingGap(source)


def _renamed(item: Any, fields: Mapping[str, str], where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise MappingGap(where)
    return {target: _walk(item, origin) for target, origin in fields.items()}


def build_document(rule: DocumentRule, request: ConnectorRequest) -> dict[str, Any]:
    """The ERP document; fields whose source is absent are left out (the ERP decides whether
    it needs them, and says so in its own validation error)."""
    values = {name: _value(source, request, rule) for name, source in rule.fields.items()}
    return {name: value for name, value in values.items() if value is not None}


def fill(template: str, values: Mapping[str, Any]) -> str:
    """A path with its {placeholders} filled, each value quoted for a URL and, inside OData
    string literals, with single quotes doubled."""
    out = template
    for name, value in values.items():
        literal = str(value).replace("'", "''")
        out = out.replace("{" + name + "}", quote(literal, safe=""))
    return out


def read_record(lookup: RecordLookup, record: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: record.get(origin) for name, origin in lookup.fields.items()}
    if lookup.lines is not None:
        lines = record.get(lookup.lines.source)
        if not isinstance(lines, list):
            raise MappingGap(lookup.lines.source)
        fields["lines"] = [
            _renamed(line, lookup.lines.fields, lookup.lines.source) for line in lines
        ]
    return fields


def read_collection(lookup: RecordLookup, answer: Any) -> list[dict[str, Any]]:
    items = answer.get(lookup.collection) if isinstance(answer, Mapping) else answer
    if lookup.collection is not None and not isinstance(answer, Mapping):
        raise MappingGap(lookup.collection)
    if not isinstance(items, list):
        raise MappingGap(lookup.collection or "(the answer)")
    return [read_record(lookup, item) for item in items if isinstance(item, Mapping)]
