"""Document profiles: which posted document becomes which ERP document, and how.

ERPs differ in paths, entity names and field names, not in what a hospital needs from them,
so a site describes its ERP in a profile file instead of code: per document type the method,
path and field mapping; the natural key the ERP can be searched by; the lookups of a purchase
order and its receipts. The connector only interprets profiles.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SHIPPED = Path(__file__).parent / "profiles"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListMap(_Strict):
    """A list copied item by item, each item's fields renamed."""

    source: str = Field(description="Dotted path of the list in the posted document.")
    fields: dict[str, str] = Field(min_length=1, description="ERP field -> item field.")


FieldSource = str | ListMap
"""A dotted path into the posted document (`payload.case.id`), `request.case_id`,
`request.document_key` (unique per request and document: the ERP-side idempotency key), or
`const:TEXT`."""


class DocumentRule(_Strict):
    """How one type of posted document (a catalog event type, or `invoice.approved`) becomes
    one ERP document; a type may have several rules (an approval releases a requisition and
    updates the schedule)."""

    type: str = Field(min_length=1, description="The posted document's `type`.")
    document: str = Field(min_length=1, description="What it is in the ERP, for logs and tests.")
    method: Literal["POST", "PATCH"] = "POST"
    path: str = Field(pattern=r"^/", description="Relative to base_url; {field} from `fields`.")
    fields: dict[str, FieldSource] = Field(min_length=1)
    search_path: str | None = Field(
        default=None,
        pattern=r"^/",
        description="Natural-key idempotency: a GET here finding the document means posted.",
    )

    @model_validator(mode="after")
    def _placeholders_are_fields(self) -> Self:
        for template in (self.path, self.search_path or ""):
            for name in _PLACEHOLDER.findall(template):
                if name not in self.fields:
                    raise ValueError(f"{{{name}}} in a path is not one of this rule's fields")
        return self


class RecordLookup(_Strict):
    path: str = Field(pattern=r"^/", description="{purchase_order_number} is filled in.")
    collection: str | None = Field(
        default=None, description="Key of the list in the answer (OData: `value`)."
    )
    fields: dict[str, str] = Field(min_length=1, description="Canonical field -> ERP field.")
    lines: ListMap | None = None


class Lookups(_Strict):
    purchase_order: RecordLookup
    receipts: RecordLookup


class ErpProfile(_Strict):
    name: str = Field(min_length=1)
    protocol: Literal["odata", "rest"]
    idempotency: Literal["header", "natural_key"] = Field(
        description="`header`: the ERP honours Idempotency-Key; `natural_key`: search first."
    )
    status_path: str = Field(pattern=r"^/", description="A read with no effect, for check().")
    document_id: str = Field(
        description="The field in which the ERP answers a posted document's id."
    )
    documents: list[DocumentRule] = Field(min_length=1)
    lookups: Lookups

    @model_validator(mode="after")
    def _searchable_when_natural(self) -> Self:
        pairs = [(rule.type, rule.document) for rule in self.documents]
        if len(pairs) != len(set(pairs)):
            raise ValueError("documents: a type maps to the same ERP document twice")
        if self.idempotency == "natural_key":
            for index, rule in enumerate(self.documents):
                if rule.search_path is None:
                    raise ValueError(f"documents.{index}.search_path is needed for natural keys")
        return self

    def rules_for(self, document_type: str) -> list[DocumentRule]:
        return [rule for rule in self.documents if rule.type == document_type]


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the keys."""


def load_profile(name_or_path: str) -> ErpProfile:
    """A shipped profile by name (`odata`, `rest`) or a site's own file by path."""
    path = SHIPPED / f"{name_or_path}.yaml" if "/" not in name_or_path else Path(name_or_path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raise ProfileError(f"ERP profile {name_or_path} cannot be read as YAML") from None
    try:
        return ErpProfile.model_validate(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise ProfileError(
            f"ERP profile {name_or_path} is invalid at: {', '.join(where)}"
        ) from None
