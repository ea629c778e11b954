"""The CORE multipart envelope: what is encoded reads back, and garbage raises only FormError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.x12_clearinghouse import core_form as core

NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1)


@given(st.dictionaries(NAMES, st.binary(max_size=300), min_size=1, max_size=8))
def test_encoded_fields_read_back_byte_for_byte(fields: dict[str, bytes]) -> None:
    body, media_type = core.encode_form(fields)
    assert core.decode_form(body, media_type) == fields


@settings(max_examples=300)
@given(st.binary(max_size=2000), st.sampled_from([None, "multipart/form-data; boundary=x"]))
def test_arbitrary_bodies_raise_only_form_errors(body: bytes, media_type: str | None) -> None:
    with contextlib.suppress(core.FormError):
        core.decode_form(body, media_type)


def test_the_payload_id_is_a_stable_uuid_per_key() -> None:
    first = core.payload_id_for("case-1:prior_auth.submit")
    assert first == core.payload_id_for("case-1:prior_auth.submit")
    assert first != core.payload_id_for("case-2:prior_auth.submit")
    assert len(first) == 36


def test_a_missing_field_is_named_without_values() -> None:
    body, media_type = core.encode_form({core.PAYLOAD_ID: "x"})
    with pytest.raises(core.FormError, match="the form lacks ErrorCode"):
        core.text_field(core.decode_form(body, media_type), core.ERROR_CODE)
