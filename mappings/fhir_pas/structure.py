"""FHIR R4 structure checks over parsed JSON, as strict as the fhir.resources R4B models and
several times faster.

Building the R4B models validates each element by constructing a pydantic model for it, and
that is most of the cost of reading a PAS bundle. The rules the models enforce are the
elements each type allows, which of them repeat, which are required (a required primitive
may be replaced by its `_element` extension), one value per choice (`value[x]`), no null
inside a list of complex elements, and each primitive's own format. This module reads those
rules off the model classes once per type and then walks the JSON: complex elements by a
plain loop, primitives through the models' own pydantic validators, so a value the models
take is taken here and a value they refuse is refused. It is never looser than the models
(a test refuses every mutated bundle they refuse); where JSON leaves a choice it is stricter:
a repeating element must be a non-empty list and a boolean must be `true` or `false`.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from pydantic import TypeAdapter, ValidationError

from mappings.fhir_pas.errors import Issue

_POLYMORPHIC = frozenset({"Resource", "DomainResource"})
_IGNORED = frozenset({"fhir_comments"})


@dataclass(frozen=True, slots=True)
class _Element:
    name: str
    many: bool
    required: bool
    primitive_required: bool
    choice: str | None
    extension_of: str | None
    check: Callable[[Any], object] | None
    model: str | None
    boolean: bool


@dataclass(frozen=True, slots=True)
class _Type:
    elements: dict[str, _Element]
    required_choices: tuple[str, ...]
    primitives_required: tuple[_Element, ...]
    required: tuple[_Element, ...]


def _unwrapped(annotation: Any) -> tuple[bool, Any]:
    """(repeats, the element type) of a field annotation: Optional and List taken off."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return many, annotation
            annotation = args[0]
        elif origin in (list, typing.List):  # noqa: UP006 (the models spell it both ways)
            many = True
            annotation = typing.get_args(annotation)[0]
        else:
            return many, annotation


def _model_name(annotation: Any) -> str | None:
    if isinstance(annotation, type) and issubclass(annotation, FhirBase):
        klass = annotation.get_model_klass()
        return str(klass.__name__)
    return None


@cache
def _type(name: str) -> _Type:
    klass: type[FHIRAbstractModel] = get_fhir_model_class(name)
    elements: dict[str, _Element] = {}
    choices: dict[str, tuple[bool, list[str]]] = {}
    for field_name, field in klass.model_fields.items():
        alias = field.alias or field_name
        if alias in _IGNORED:
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        many, inner = _unwrapped(field.annotation)
        model = _model_name(inner)
        check = None
        if model is None:
            check = _string_check(inner) or TypeAdapter(inner).validator.validate_python
        choice = extra.get("one_of_many")
        element = _Element(
            name=alias,
            many=many,
            required=field.is_required(),
            primitive_required=bool(extra.get("element_required")),
            choice=str(choice) if choice else None,
            extension_of=alias[1:] if field_name.endswith("__ext") else None,
            check=check,
            model=model,
            boolean=inner is bool,
        )
        elements[alias] = element
        if element.choice is not None:
            group = choices.setdefault(
                element.choice, (bool(extra.get("one_of_many_required")), [])
            )
            group[1].append(alias)
    return _Type(
        elements=elements,
        required_choices=tuple(key for key, (required, _) in choices.items() if required),
        primitives_required=tuple(e for e in elements.values() if e.primitive_required),
        required=tuple(e for e in elements.values() if e.required),
    )


def structure_issues(document: dict[str, Any], root: str = "Bundle") -> list[Issue]:
    """Every element of `document` (a resource) that breaks FHIR R4 structure, by FHIRPath."""
    return check_structure(document, root)[0]


def check_structure(
    document: dict[str, Any], root: str = "Bundle"
) -> tuple[list[Issue], list[tuple[str, str]]]:
    """The structure issues, and every `Reference.reference` met on the way (its FHIRPath and
    target), so that resolving references needs no second walk."""
    walk = _Walk()
    try:
        walk.resource(document, ())
    except RecursionError:
        return [Issue(root, "nests deeper than this server reads", "too-costly")], []
    issues = [Issue(_fhirpath(root, path), text, code) for path, text, code in walk.found]
    references = [
        (_fhirpath(root, (*path, "reference")), target) for path, target in walk.references
    ]
    return issues, references


def _fhirpath(root: str, path: tuple[str | int, ...]) -> str:
    return root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _has_extension(value: object) -> bool:
    return isinstance(value, dict) and bool(value.get("extension"))


class _Walk:
    """One pass over a document. Paths are tuples, turned into text only for what is reported."""

    def __init__(self) -> None:
        self.found: list[tuple[tuple[str | int, ...], str, str]] = []
        self.references: list[tuple[tuple[str | int, ...], str]] = []

    def resource(self, node: object, at: tuple[str | int, ...]) -> None:
        if type(node) is not dict:
            self.found.append((at, "must be a JSON object (a FHIR resource)", "structure"))
            return
        kind = node.get("resourceType")
        if not isinstance(kind, str):
            self.found.append((at, "needs a resourceType", "required"))
            return
        try:
            get_fhir_model_class(kind)
        except (KeyError, ValueError):
            self.found.append((at, "is not a FHIR R4 resource type", "not-supported"))
            return
        self.complex(node, kind, at, is_resource=True)

    def complex(
        self, node: object, name: str, at: tuple[str | int, ...], *, is_resource: bool = False
    ) -> None:
        found = self.found
        if type(node) is not dict:
            found.append((at, "must be a JSON object", "structure"))
            return
        spec = _type(name)
        elements = spec.elements
        chosen: dict[str, str] | None = None
        for key, value in node.items():
            element = elements.get(key)
            if element is None:
                if not (is_resource and key == "resourceType") and key not in _IGNORED:
                    found.append(((*at, key), "is not an element of this type", "structure"))
                continue
            if value is None:
                continue
            if element.choice is not None:
                chosen = chosen if chosen is not None else {}
                if element.choice in chosen:
                    text = f"only one {element.choice}[x] is allowed"
                    found.append(((*at, key), text, "structure"))
                chosen[element.choice] = key
            if not element.many:
                self.value(element, value, at, key, None)
                continue
            if type(value) is not list or not value:
                found.append(((*at, key), "must be a non-empty JSON array", "structure"))
                continue
            for index, item in enumerate(value):
                if item is not None:
                    self.value(element, item, at, key, index)
                elif element.model is not None and element.extension_of is None:
                    where = (*at, key, index)
                    found.append((where, "null is not allowed in a list of elements", "value"))
        for element in spec.required:
            if node.get(element.name) is None:
                found.append(((*at, element.name), "is required", "required"))
        for element in spec.primitives_required:
            if node.get(element.name) is None and not _has_extension(node.get(f"_{element.name}")):
                found.append(((*at, element.name), "is required", "required"))
        for choice in spec.required_choices:
            if chosen is None or choice not in chosen:
                found.append(((*at, f"{choice}[x]"), "is required", "required"))
        if name == "Reference" and isinstance(node.get("reference"), str):
            self.references.append((at, node["reference"]))

    def value(
        self,
        element: _Element,
        value: object,
        at: tuple[str | int, ...],
        key: str,
        index: int | None,
    ) -> None:
        check = element.check
        if check is None:
            where = (*at, key) if index is None else (*at, key, index)
            if element.model in _POLYMORPHIC:
                self.resource(value, where)
            else:
                self.complex(value, str(element.model), where)
            return
        # JSON booleans are booleans only: the models would also take 1 or "true" there, and
        # a boolean where a number belongs.
        kind = type(value)
        ok = kind is not dict and kind is not list and (kind is bool) is element.boolean
        if ok:
            try:
                ok = check(value) is not False
            except (ValidationError, ValueError, TypeError):
                ok = False
        if not ok:
            where = (*at, key) if index is None else (*at, key, index)
            self.found.append((where, "is not a valid value of its type", "value"))


def _string_check(annotation: Any) -> Callable[[Any], object] | None:
    """A plain check for string types whose models only bound length and match a pattern
    (string, code, id, uri...): the same rule without a pydantic call per value."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    base, *metadata = typing.get_args(annotation)
    if base is not str or len(metadata) != 1:
        return None
    try:
        parts = list(metadata[0])
    except TypeError:
        return None
    pattern: re.Pattern[str] | None = None
    low, high = 0, None
    for part in parts:
        if isinstance(getattr(part, "min_length", None), int):
            low = part.min_length
        elif isinstance(getattr(part, "max_length", None), int):
            high = part.max_length
        elif isinstance(getattr(part, "pattern", None), str):
            pattern = re.compile(part.pattern)
        else:
            return None
    if pattern is None:
        return None
    search = pattern.search

    def check(value: Any) -> bool:
        return (
            type(value) is str
            and low <= len(value)
            and (high is None or len(value) <= high)
            and search(value) is not None
        )

    return check
