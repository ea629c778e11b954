"""What every PAS bundle must be before its content is read: a valid FHIR R4 Bundle (checked
against the rules of the fhir.resources R4B models, see `structure`) plus the PAS rules those
models do not enforce.

The models accept any `Claim.use`, dangling references and a Claim anywhere in the bundle, and
fail with a KeyError on an unknown resourceType, so those are checked here first or after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from mappings.fhir_pas.errors import Issue, PasMappingError
from mappings.fhir_pas.structure import check_structure

MAX_ENTRIES = 500
_FULL_URL = re.compile(
    r"^(urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|https?://\S+/[A-Za-z]+/[A-Za-z0-9\-.]{1,64})$"
)


@dataclass(frozen=True)
class PasBundle:
    """A checked bundle: its first resource and every entry by fullUrl, with FHIRPaths."""

    first: dict[str, Any]
    by_url: dict[str, tuple[str, dict[str, Any]]]

    def resolve(
        self, reference: object, expected: str | tuple[str, ...], at: str
    ) -> tuple[str, dict[str, Any]]:
        """The resource a Reference points at, and its FHIRPath; it must be an `expected`."""
        kinds = (expected,) if isinstance(expected, str) else expected
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            raise PasMappingError("missing reference", [Issue(at, "a reference is required")])
        found = self.by_url.get(reference["reference"])
        if found is None:
            raise PasMappingError(
                "dangling reference", [Issue(at, "does not resolve inside the bundle")]
            )
        path, resource = found
        if resource.get("resourceType") not in kinds:
            raise PasMappingError(
                "wrong reference target", [Issue(at, f"must reference a {' or '.join(kinds)}")]
            )
        return path, resource


def check_bundle(document: object, *, first: str) -> PasBundle:
    """Refuse anything but a collection Bundle led by exactly one `first` resource."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise PasMappingError(
            "not a Bundle", [Issue("Bundle", "the document must be a FHIR Bundle", "structure")]
        )
    entries = document.get("entry")
    if not isinstance(entries, list) or not entries:
        raise PasMappingError(
            "empty bundle", [Issue("Bundle.entry", "a PAS bundle needs entries", "required")]
        )
    if len(entries) > MAX_ENTRIES:
        raise PasMappingError(
            "too many entries",
            [Issue("Bundle.entry", f"at most {MAX_ENTRIES} entries are accepted", "too-costly")],
        )
    _known_resource_types(entries)
    structure, references = check_structure(document)
    if structure:
        raise PasMappingError("not a valid FHIR R4 Bundle", structure)
    issues: list[Issue] = []
    if document.get("type") != "collection":
        issues.append(Issue("Bundle.type", "a PAS bundle is a collection", "value"))
    issues.extend(_first_entry_rules(entries, first))
    by_url, url_issues = _index(entries)
    issues.extend(url_issues)
    if not issues:
        issues.extend(
            Issue(path, "does not resolve inside the bundle")
            for path, target in references
            if not target.startswith("#") and target not in by_url
        )
    if issues:
        raise PasMappingError("the bundle breaks PAS rules", issues)
    return PasBundle(first=entries[0]["resource"], by_url=by_url)


def _known_resource_types(entries: list[Any]) -> None:
    issues: list[Issue] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        at = f"Bundle.entry[{index}].resource"
        if not isinstance(kind, str):
            issues.append(Issue(at, "each entry needs a resource with a resourceType", "required"))
            continue
        try:
            get_fhir_model_class(kind)
        except (ValueError, KeyError):
            issues.append(Issue(at, "is not a FHIR R4 resource type", "not-supported"))
    if issues:
        raise PasMappingError("unknown resource types", issues)


def _first_entry_rules(entries: list[Any], first: str) -> list[Issue]:
    issues: list[Issue] = []
    kinds = [entry["resource"]["resourceType"] for entry in entries]
    if kinds[0] != first:
        issues.append(Issue("Bundle.entry[0].resource", f"the first entry must be the {first}"))
    for index, kind in enumerate(kinds[1:], start=1):
        if kind == first:
            issues.append(Issue(f"Bundle.entry[{index}].resource", f"a second {first}"))
    if (
        first == "Claim"
        and kinds[0] == "Claim"
        and entries[0]["resource"].get("use") != ("preauthorization")
    ):
        issues.append(Issue("Bundle.entry[0].resource.use", "must be preauthorization", "value"))
    return issues


def _index(entries: list[Any]) -> tuple[dict[str, tuple[str, dict[str, Any]]], list[Issue]]:
    by_url: dict[str, tuple[str, dict[str, Any]]] = {}
    issues: list[Issue] = []
    for index, entry in enumerate(entries):
        url = entry.get("fullUrl")
        at = f"Bundle.entry[{index}].fullUrl"
        if not isinstance(url, str):
            issues.append(Issue(at, "every entry needs a fullUrl", "required"))
        elif not _FULL_URL.match(url):
            issues.append(Issue(at, "must be a urn:uuid or an absolute resource URL", "value"))
        elif url in by_url:
            issues.append(Issue(at, "repeats an earlier fullUrl", "duplicate"))
        else:
            by_url[url] = (f"Bundle.entry[{index}].resource", entry["resource"])
    return by_url, issues
