"""Secrets given by reference, never by value.

Connector configuration is stored, logged on error and shown in admin screens; a credential in
it would leak through every one of those. So a config field holding a credential takes
`env:NAME` or `file:/absolute/path` and reads the value only when a connector needs it, which
also lets a rotated secret (a re-mounted file) take effect without a restart.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REFERENCE_PATTERN = r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$"
_FORMAT_HINT = "must be a secret reference: env:NAME or file:/absolute/path"


class SecretUnavailableError(LookupError):
    """The reference is well formed but nothing is behind it right now."""


class SecretRef:
    """A pointer to a secret. `str()`, `repr()` and JSON show the pointer, not the secret."""

    __slots__ = ("_kind", "_target")

    def __init__(self, reference: str) -> None:
        kind, sep, target = reference.partition(":")
        if not sep or kind not in ("env", "file"):
            raise ValueError(_FORMAT_HINT)
        if kind == "env" and not _ENV_NAME.match(target):
            raise ValueError("env: must be followed by an environment variable name")
        if kind == "file" and not Path(target).is_absolute():
            raise ValueError("file: must be followed by an absolute path")
        self._kind = kind
        self._target = target

    @property
    def reference(self) -> str:
        return f"{self._kind}:{self._target}"

    def resolve(self) -> str:
        """Read the secret now; a trailing newline (as editors and `echo` leave) is dropped."""
        if self._kind == "env":
            value = os.environ.get(self._target)
            if value is None:
                raise SecretUnavailableError(f"secret {self.reference} is not set")
            return value
        try:
            text = Path(self._target).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise SecretUnavailableError(f"secret {self.reference} cannot be read") from None
        return text.removesuffix("\n").removesuffix("\r")

    def __str__(self) -> str:
        return self.reference

    def __repr__(self) -> str:
        return f"SecretRef({self.reference!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and other.reference == self.reference

    def __hash__(self) -> int:
        return hash(self.reference)

    @classmethod
    def _validate(cls, value: Any) -> SecretRef:
        if isinstance(value, SecretRef):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError("secret_ref_type", _FORMAT_HINT)
        try:
            return cls(value)
        except ValueError as exc:
            # The message is ours and never contains the input: it may be a pasted secret.
            raise PydanticCustomError("secret_ref_format", str(exc)) from None

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda ref: ref.reference, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": _REFERENCE_PATTERN, "format": "secret-reference"}
