"""SecretRef: secrets by reference, read at use, never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from connectors.secrets import SecretRef, SecretUnavailableError

VALUE = "Zq-s3cret-value-91"


class _Holder(BaseModel):
    secret: SecretRef
    optional: SecretRef | None = None


def test_env_reference_resolves_at_use(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = SecretRef("env:CASEGATE_TEST_SECRET_REF")
    monkeypatch.setenv("CASEGATE_TEST_SECRET_REF", VALUE)
    assert ref.resolve() == VALUE
    monkeypatch.setenv("CASEGATE_TEST_SECRET_REF", "rotated")
    assert ref.resolve() == "rotated"


def test_file_reference_drops_one_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(VALUE + "\n")
    assert SecretRef(f"file:{path}").resolve() == VALUE
    path.write_text(VALUE + "\r\n")
    assert SecretRef(f"file:{path}").resolve() == VALUE


def test_missing_secret_names_the_reference(tmp_path: Path) -> None:
    with pytest.raises(SecretUnavailableError, match="env:CASEGATE_TEST_UNSET_9"):
        SecretRef("env:CASEGATE_TEST_UNSET_9").resolve()
    with pytest.raises(SecretUnavailableError, match="cannot be read"):
        SecretRef(f"file:{tmp_path / 'absent'}").resolve()


@pytest.mark.parametrize(
    "reference", [VALUE, "env:", "env:1BAD", "env:A-B", "file:relative/path", "vault:x", ""]
)
def test_malformed_references_are_refused(reference: str) -> None:
    with pytest.raises(ValueError) as caught:
        SecretRef(reference)
    assert VALUE not in str(caught.value)


def test_the_value_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEGATE_TEST_SECRET_REF", VALUE)
    holder = _Holder.model_validate({"secret": "env:CASEGATE_TEST_SECRET_REF"})
    assert holder.secret.resolve() == VALUE
    shown = [str(holder.secret), repr(holder.secret), repr(holder), holder.model_dump_json()]
    assert all(VALUE not in text for text in shown)
    assert json.loads(holder.model_dump_json()) == {
        "secret": "env:CASEGATE_TEST_SECRET_REF",
        "optional": None,
    }
    assert holder.model_dump()["secret"] == "env:CASEGATE_TEST_SECRET_REF"


def test_a_pasted_secret_is_refused_without_being_repeated() -> None:
    with pytest.raises(ValidationError) as caught:
        _Holder.model_validate({"secret": VALUE, "optional": 42})
    errors = caught.value.errors(include_input=False)
    assert [e["loc"] for e in errors] == [("secret",), ("optional",)]
    assert all(VALUE not in e["msg"] for e in errors)


def test_round_trips_through_json_and_compares_by_reference() -> None:
    holder = _Holder.model_validate({"secret": "file:/run/secrets/payer"})
    again = _Holder.model_validate_json(holder.model_dump_json())
    assert again == holder
    assert hash(again.secret) == hash(SecretRef("file:/run/secrets/payer"))
    assert SecretRef("env:A") != SecretRef("env:B")


def test_json_schema_describes_a_reference() -> None:
    schema = _Holder.model_json_schema()["properties"]["secret"]
    assert schema["type"] == "string"
    assert schema["format"] == "secret-reference"
