"""x12_clearinghouse over CORE real-time HTTP against the conformance kit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from connectors.testing import ConnectorConformance
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from tests.connectors.connector_test_support import WRONG_SECRET_ENV
from tests.connectors.x12_clearinghouse.support import (
    SCENARIOS,
    realtime_config,
    start_clearinghouse,
)


class TestRealTimeConformance(ConnectorConformance):
    connector_name = "x12_clearinghouse"
    canary_fields = ("patient.family", "notes")
    scenarios = SCENARIOS

    @pytest.fixture(scope="class")
    def sandbox(
        self, client_secret_env: None, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[X12ClearinghouseSandbox]:
        root: Path = tmp_path_factory.mktemp("clearinghouse")
        running = start_clearinghouse(root, sftp=False)
        yield running
        running.stop()

    @pytest.fixture
    def connector_config(self, sandbox: X12ClearinghouseSandbox) -> Mapping[str, Any]:
        return realtime_config(sandbox)

    @pytest.fixture
    def bad_credentials_config(self, sandbox: X12ClearinghouseSandbox) -> Mapping[str, Any]:
        return realtime_config(sandbox, password_env=WRONG_SECRET_ENV)
