"""`casegate worker` alone: a separate process moves cases that another process accepted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from connectors.payer_rest.sandbox import PayerRestSandbox
from gateway.app import create_app
from gateway.serving import start_server
from gateway.settings import load_settings
from tests.gateway.api.support import EXAMPLES, dev_token


async def test_a_worker_process_decides_what_the_server_accepted(
    payer: PayerRestSandbox, tmp_path: Path
) -> None:
    config = tmp_path / "casegate.yaml"
    secret = f"file:{tmp_path / 'payer-secret'}"
    auth = {"token_url": f"{payer.base_url}/oauth/token", "client_id": "casegate"}
    config.write_text(
        json.dumps(
            {
                "workers": {"in_process": False, "poll_interval_seconds": 0.05},
                "connectors": {
                    "acme": {
                        "kind": "payer_rest",
                        "config": {
                            "base_url": payer.base_url,
                            "auth": {**auth, "client_secret": secret},
                        },
                    }
                },
                "routes": [{"payer": "*", "connector": "acme"}],
            }
        )
    )
    home = tmp_path / "home"
    environ = {"CASEGATE_HOME": str(home), "CASEGATE_CONFIG": str(config)}
    settings = load_settings(config, environ=environ)
    server = await start_server(create_app(settings))
    token = dev_token(settings)
    worker = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "worker"], env={**os.environ, **environ}
    )
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}
        ) as api:
            accepted = await api.post(
                "/v1/prior-authorizations",
                content=(EXAMPLES / "prior-authorization.json").read_bytes(),
                headers={"Idempotency-Key": "w-1"},
            )
            case_url = accepted.json()["links"]["self"]
            for _ in range(300):
                case = (await api.get(case_url)).json()
                if case["status"] == "approved":
                    break
                await asyncio.sleep(0.05)
            assert case["status"] == "approved"
            assert case["route"] == "acme"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
        await server.stop()
