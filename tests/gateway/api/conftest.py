"""The example request the API tests send; the running `gateway` is in the parent conftest."""

from __future__ import annotations

import pytest

from tests.gateway.api.support import EXAMPLES


@pytest.fixture
def example() -> bytes:
    return (EXAMPLES / "prior-authorization.json").read_bytes()
