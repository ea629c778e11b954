"""x12_clearinghouse over SFTP batch files against the conformance kit.

A batch drop has no HTTP statuses: a refusal is a TA1 or 999 file, an outage a missing answer;
so the kit's 429, 503 and 401 faults do not apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox import Fault
from connectors.testing import ConnectorConformance
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from tests.connectors.connector_test_support import WRONG_SECRET_ENV
from tests.connectors.x12_clearinghouse.support import SCENARIOS, sftp_config, start_clearinghouse


class TestSftpBatchConformance(ConnectorConformance):
    connector_name = "x12_clearinghouse"
    canary_fields = ("patient.family", "notes")
    scenarios = SCENARIOS
    faults = frozenset(
        {Fault.timeout, Fault.lost_response, Fault.bad_request, Fault.malformed, Fault.off_contract}
    )

    @pytest.fixture(scope="class")
    def sandbox(
        self, client_secret_env: None, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[X12ClearinghouseSandbox]:
        root: Path = tmp_path_factory.mktemp("clearinghouse")
        running = start_clearinghouse(root)
        yield running
        running.stop()

    @pytest.fixture
    def connector_config(self, sandbox: X12ClearinghouseSandbox) -> Mapping[str, Any]:
        return sftp_config(sandbox)

    @pytest.fixture
    def bad_credentials_config(self, sandbox: X12ClearinghouseSandbox) -> Mapping[str, Any]:
        return sftp_config(sandbox, password_env=WRONG_SECRET_ENV)
