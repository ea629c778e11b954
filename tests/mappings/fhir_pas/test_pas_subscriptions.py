"""PAS subscriptions and notifications (R4 Subscriptions Backport): what the sandbox writes the
gateway reads, anything else is refused at the element, and no input makes the reader crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings.fhir_pas import PasMappingError
from mappings.fhir_pas.subscriptions import (
    build_notification,
    read_notification,
    read_subscription,
    subscription_resource,
)

RESPONSE = {"resourceType": "Bundle", "type": "collection", "entry": []}
URL = "https://payer.example/fhir/Subscription/s1"


def test_a_subscription_reads_back_as_written() -> None:
    resource = subscription_resource("https://gw.example/fhir/notifications/x", {"X-S": "v:1"})
    assert read_subscription(resource) == (
        "https://gw.example/fhir/notifications/x",
        {"X-S": "v:1"},
    )


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("criteria",), "Claim?status=active", "Subscription.criteria"),
        (("channel", "type"), "websocket", "Subscription.channel.type"),
        (("channel", "endpoint"), "ftp://x", "Subscription.channel.endpoint"),
        (("channel", "_payload"), {}, "Subscription.channel.payload"),
        (("channel", "header"), ["no colon"], "Subscription.channel.header[0]"),
    ],
)
def test_a_subscription_off_the_pas_profile_is_refused(
    path: tuple[str, ...], value: Any, where: str
) -> None:
    resource = subscription_resource("https://gw.example/n", {"X-S": "v"})
    node = resource
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(PasMappingError) as caught:
        read_subscription(resource)
    assert caught.value.issues[0].expression == where


def test_a_notification_reads_back_as_written() -> None:
    body = json.dumps(build_notification(URL, 7, RESPONSE, "2026-11-23T10:00:00Z")).encode()
    notification = read_notification(body)
    assert notification.type == "event-notification"
    assert notification.subscription == URL
    assert notification.event_number == "7"
    assert notification.response == RESPONSE
    assert notification.bundle_id


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"type": "collection"}, "Bundle.type"),
        ({"entry": []}, "Bundle.entry"),
        ({"resourceType": "Parameters"}, "Bundle"),
    ],
)
def test_a_notification_off_the_backport_shape_is_refused(
    change: dict[str, Any], where: str
) -> None:
    document = build_notification(URL, 1, RESPONSE, "2026-11-23T10:00:00Z") | change
    with pytest.raises(PasMappingError) as caught:
        read_notification(json.dumps(document).encode())
    assert caught.value.issues[0].expression == where


def test_an_event_without_its_response_is_refused() -> None:
    document = build_notification(URL, 1, RESPONSE, "2026-11-23T10:00:00Z")
    document["entry"] = document["entry"][:1]
    with pytest.raises(PasMappingError) as caught:
        read_notification(json.dumps(document).encode())
    assert caught.value.issues[0].expression == "Bundle.entry[1].resource"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode()))
def test_any_body_is_read_or_refused_never_crashes(body: bytes) -> None:
    try:
        read_notification(body)
    except PasMappingError as exc:
        assert exc.issues


@given(_json)
def test_any_entry_list_is_read_or_refused(entries: Any) -> None:
    body = json.dumps({"resourceType": "Bundle", "type": "history", "entry": entries}).encode()
    try:
        read_notification(body)
    except PasMappingError as exc:
        assert exc.issues


@given(st.sampled_from(["subscription", "type", "notification-event"]), _json)
def test_any_status_parameter_value_is_read_or_refused(name: str, value: Any) -> None:
    document = build_notification(URL, 1, RESPONSE, "2026-11-23T10:00:00Z")
    for parameter in document["entry"][0]["resource"]["parameter"]:
        if parameter["name"] == name:
            parameter.clear()
            parameter.update({"name": name, "valueReference": value, "part": value})
    try:
        read_notification(json.dumps(document).encode())
    except PasMappingError as exc:
        assert exc.issues


@given(st.sampled_from(["_payload", "header", "endpoint"]), _json)
def test_any_channel_value_is_read_or_refused(key: str, value: Any) -> None:
    resource = subscription_resource("https://gw.example/n", {"X-S": "v"})
    resource["channel"][key] = value
    try:
        read_subscription(resource)
    except PasMappingError as exc:
        assert exc.issues
