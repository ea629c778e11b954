"""`GET /fhir/metadata`: what the facade offers, as a FHIR R4 CapabilityStatement.

It follows the PAS intermediary requirements (Claim `$submit` and `$inquire`, rest-hook
Subscriptions on the PAS topic) and names the SMART token endpoint, so an EHR can discover
how to authenticate before it has a token; the route is public for that reason.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from gateway.fhir.outcomes import fhir_response
from gateway.runtime import runtime_of

PAS_CANONICAL = "http://hl7.org/fhir/us/davinci-pas"
PAS_TOPIC = f"{PAS_CANONICAL}/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport"
_SOFTWARE_VERSION = "0.1.0"


def capability_statement(base_url: str, token_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "instantiates": [f"{PAS_CANONICAL}/CapabilityStatement/IntermediaryCapabilities"],
        "software": {"name": "casegate", "version": _SOFTWARE_VERSION},
        "implementation": {
            "description": "casegate PAS facade for EHRs",
            "url": base_url,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": token_url}],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "SMART Backend Services: system/Claim.write to submit, "
                    "system/ClaimResponse.read to inquire, system/Subscription.write to "
                    "subscribe.",
                },
                "resource": [
                    {
                        "type": "Claim",
                        "operation": [
                            {
                                "name": "submit",
                                "definition": f"{PAS_CANONICAL}/OperationDefinition/Claim-submit",
                            },
                            {
                                "name": "inquire",
                                "definition": f"{PAS_CANONICAL}/OperationDefinition/Claim-inquiry",
                            },
                        ],
                    },
                    {
                        "extension": [
                            {
                                "url": f"{BACKPORT}/StructureDefinition/"
                                "capabilitystatement-subscriptiontopic-canonical",
                                "valueCanonical": PAS_TOPIC,
                            }
                        ],
                        "type": "Subscription",
                        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "delete"}],
                    },
                ],
            }
        ],
    }


@get("/metadata", opt={"exclude_from_auth": True}, name="fhir-metadata")
async def metadata(request: Request[Any, Any, Any]) -> Response[bytes]:
    settings = runtime_of(request).settings
    statement = capability_statement(f"{settings.auth.issuer}/fhir", settings.auth.token_url)
    return fhir_response(statement, headers={"Cache-Control": "public, max-age=300"})
