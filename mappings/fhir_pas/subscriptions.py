"""PAS subscriptions (R4 Subscriptions Backport): the rest-hook Subscription a client creates at
a payer, and the `history` notification bundle the payer sends on each decision.

Both sides of casegate use these: the gateway subscribes and reads notifications, the sandbox
payer accepts subscriptions and writes notifications, so the two cannot drift apart. A
notification is a SubscriptionStatus `Parameters` entry (type, subscription, event number),
then the full PAS response Bundle (spec-61).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mappings.fhir_pas.errors import Issue, PasMappingError

PAS_TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
PAYLOAD_CONTENT_URL = f"{BACKPORT}/backport-payload-content"
STATUS_PROFILE = f"{BACKPORT}/backport-subscription-status-r4"
FULL_RESOURCE = "full-resource"
NOTIFICATION_TYPES = frozenset({"handshake", "heartbeat", "event-notification", "query-status"})
_STATUS = "Bundle.entry[0].resource"


def subscription_resource(callback_url: str, headers: dict[str, str]) -> dict[str, Any]:
    """A rest-hook Subscription to the PAS topic with full-resource payloads."""
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Decisions on pended prior authorizations",
        "criteria": PAS_TOPIC,
        "channel": {
            "type": "rest-hook",
            "endpoint": callback_url,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": PAYLOAD_CONTENT_URL, "valueCode": FULL_RESOURCE}]},
            "header": [f"{name}: {value}" for name, value in headers.items()],
        },
    }


def read_subscription(document: object) -> tuple[str, dict[str, str]]:
    """The endpoint and headers of a PAS rest-hook Subscription, or a PasMappingError."""
    if not isinstance(document, dict) or document.get("resourceType") != "Subscription":
        raise _refused("Subscription", "must be a Subscription")
    if document.get("criteria") != PAS_TOPIC:
        raise _refused("Subscription.criteria", "must be the PAS subscription topic")
    channel = document.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise _refused("Subscription.channel.type", "must be rest-hook")
    endpoint = channel.get("endpoint")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused("Subscription.channel.endpoint", "must be an http(s) URL")
    payload = channel.get("_payload")
    extensions = _dicts(payload.get("extension")) if isinstance(payload, dict) else []
    content = [e.get("valueCode") for e in extensions if e.get("url") == PAYLOAD_CONTENT_URL]
    if content != [FULL_RESOURCE]:
        raise _refused("Subscription.channel.payload", "PAS notifications carry full resources")
    headers: dict[str, str] = {}
    lines = channel.get("header") or []
    for index, line in enumerate(lines if isinstance(lines, list) else [None]):
        name, sep, value = line.partition(":") if isinstance(line, str) else ("", "", "")
        if not sep or not name.strip():
            raise _refused(f"Subscription.channel.header[{index}]", "must be 'Name: value'")
        headers[name.strip()] = value.strip()
    return str(endpoint), headers


@dataclass(frozen=True)
class Notification:
    """What a notification says: its kind, which subscription, which event, and the response."""

    bundle_id: str | None
    type: str
    subscription: str
    event_number: str | None
    response: dict[str, Any] | None


def build_notification(
    subscription_url: str, event_number: int, response: dict[str, Any], timestamp: str
) -> dict[str, Any]:
    """An event-notification `history` bundle carrying the full PAS response bundle."""
    status = {
        "resourceType": "Parameters",
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": [
            {"name": "subscription", "valueReference": {"reference": subscription_url}},
            {"name": "topic", "valueCanonical": PAS_TOPIC},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(event_number)},
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(event_number)},
                    {"name": "timestamp", "valueInstant": timestamp},
                ],
            },
        ],
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "history",
        "timestamp": timestamp,
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": status,
                "request": {"method": "GET", "url": f"{subscription_url}/$status"},
                "response": {"status": "200"},
            },
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": response,
                "request": {"method": "POST", "url": "Bundle"},
                "response": {"status": "201"},
            },
        ],
    }


def read_notification(body: bytes) -> Notification:
    """The notification in `body`, or a PasMappingError naming the element at fault."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _refused("Bundle", "the body is not JSON", "structure") from None
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise _refused("Bundle", "a notification must be a Bundle", "structure")
    if document.get("type") != "history":
        raise _refused("Bundle.type", "a notification bundle must be of type history")
    entries = document.get("entry")
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        raise _refused("Bundle.entry", "a notification starts with its SubscriptionStatus")
    status = entries[0].get("resource")
    if not isinstance(status, dict) or status.get("resourceType") != "Parameters":
        raise _refused(_STATUS, "must be a SubscriptionStatus Parameters")
    values = _parameters(status)
    kind = values.get("type")
    if kind not in NOTIFICATION_TYPES:
        raise _refused(f"{_STATUS}.parameter", "needs a known notification type")
    subscription = values.get("subscription")
    if not isinstance(subscription, str) or not subscription:
        raise _refused(f"{_STATUS}.parameter", "needs the subscription reference")
    response: dict[str, Any] | None = None
    if kind == "event-notification":
        found = (
            entries[1].get("resource")
            if len(entries) > 1 and isinstance(entries[1], dict)
            else None
        )
        if not isinstance(found, dict) or found.get("resourceType") != "Bundle":
            raise _refused("Bundle.entry[1].resource", "must be the full PAS response Bundle")
        response = found
    bundle_id = document.get("id")
    event = values.get("event-number")
    return Notification(
        bundle_id=bundle_id if isinstance(bundle_id, str) else None,
        type=str(kind),
        subscription=subscription,
        event_number=event if isinstance(event, str) else None,
        response=response,
    )


def _parameters(status: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for parameter in _dicts(status.get("parameter")):
        name = parameter.get("name")
        if name == "subscription":
            reference = parameter.get("valueReference")
            values[name] = reference.get("reference") if isinstance(reference, dict) else None
        elif name == "type":
            values[name] = parameter.get("valueCode")
        elif name == "notification-event":
            for part in _dicts(parameter.get("part")):
                if part.get("name") == "event-number":
                    values["event-number"] = part.get("valueString")
    return values


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _refused(expression: str, diagnostics: str, code: str = "invalid") -> PasMappingError:
    return PasMappingError("invalid notification", [Issue(expression, diagnostics, code)])
