"""What the facade tests share: an EHR's PAS bundles and an EHR endpoint that takes
notifications (a real HTTP server on loopback)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from canonical.cases import PriorAuthorizationRequest
from mappings.fhir_pas import build_request_bundle
from tests.gateway.api.support import example_request

EHR_CLAIM_SYSTEM = "urn:oid:2.16.840.1.113883.3.9999.77"
REQUESTER_NPI = "1260181593"
FHIR = {"Content-Type": "application/fhir+json"}


def ehr_bundle(claim_number: str, **changes: Any) -> dict[str, Any]:
    """A PAS request bundle as an EHR sends it: its own Claim identifier, no casegate ids."""
    request = PriorAuthorizationRequest.model_validate(example_request(**changes))
    created = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    bundle = build_request_bundle(f"ehr-{claim_number}", request, created=created)
    bundle["identifier"] = {"system": EHR_CLAIM_SYSTEM, "value": f"bundle-{claim_number}"}
    claim = bundle["entry"][0]["resource"]
    claim["identifier"] = [{"system": EHR_CLAIM_SYSTEM, "value": claim_number}]
    return bundle


def resource(bundle: dict[str, Any], kind: str, index: int = 0) -> dict[str, Any]:
    found = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    chosen: dict[str, Any] = found[index]
    return chosen


def review_actions(response: dict[str, Any]) -> list[str]:
    claim_response = response["entry"][0]["resource"]
    assert claim_response["resourceType"] == "ClaimResponse"
    return [
        part["valueCodeableConcept"]["coding"][0]["code"]
        for item in claim_response["item"]
        for adjudication in item["adjudication"]
        for extension in adjudication["extension"]
        for part in extension["extension"]
        if part["url"] == "code"
    ]


class EhrEndpoint:
    """A rest-hook endpoint on loopback; answers `fail_first` POSTs with 503, then 200."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.refused = 0
        self._fail_first = fail_first
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with endpoint._lock:
                    if endpoint.refused < endpoint._fail_first:
                        endpoint.refused += 1
                        status = 503
                    else:
                        endpoint.received.append((dict(self.headers), json.loads(body)))
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/pas/notifications"

    def __enter__(self) -> EhrEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def pas_subscription(endpoint: str, org: str = REQUESTER_NPI) -> dict[str, Any]:
    backport = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "PAS updates",
        "criteria": "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
        "_criteria": {
            "extension": [
                {
                    "url": f"{backport}/backport-filter-criteria",
                    "valueString": f"Bundle?orgIdentifier={org}",
                }
            ]
        },
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {"url": f"{backport}/backport-payload-content", "valueCode": "full-resource"}
                ]
            },
            "header": ["Authorization: Bearer ehr-endpoint-secret"],
        },
    }
