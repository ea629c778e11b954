"""Batch transport: an interchange is dropped as a file and its answer waited for.

The upload is named by the request's payload id and the clearinghouse answers in a file of the
same name in the response folder, holding every interchange it has to say (a TA1, or a 999
and the response). A resend uploads the same name with the same control number, which the
clearinghouse recognises. Unsolicited files (835 remittances, 277 claim status) wait in the
report folder until the gateway has stored them and removes them.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from connectors.contract import ConnectorRequest
from connectors.errors import TransientError
from connectors.x12_clearinghouse import core_form as core
from connectors.x12_clearinghouse.config import BatchConfig
from connectors.x12_clearinghouse.drops import DirectoryDrop, FileDrop, SftpDrop

FILE_SUFFIX = ".x12"


def file_name(payload_id: str) -> str:
    return payload_id + FILE_SUFFIX


class BatchTransport:
    def __init__(self, config: BatchConfig, *, timeout_seconds: float) -> None:
        self._config = config
        self._timeout = timeout_seconds
        self.drop: FileDrop = (
            SftpDrop(config.sftp, timeout_seconds=timeout_seconds)
            if config.sftp is not None
            else DirectoryDrop(config.directory or Path())
        )

    async def check(self) -> None:
        config = self._config
        await self.drop.check((config.upload_dir, config.response_dir, config.report_dir))

    async def send(self, request: ConnectorRequest, payload: bytes) -> bytes:
        name = file_name(core.payload_id_for(request.idempotency_key))
        config = self._config
        await self.drop.put(config.upload_dir, name, payload)
        deadline = time.monotonic() + self._timeout
        while True:
            answer = await self.drop.get(config.response_dir, name)
            if answer is not None:
                await self.drop.remove(config.response_dir, name)
                return answer
            if time.monotonic() >= deadline:
                raise TransientError("no answer file within the timeout", wire_request=payload)
            await asyncio.sleep(config.poll_seconds)

    async def reports(self) -> list[str]:
        return await self.drop.names(self._config.report_dir)

    async def read_report(self, name: str) -> bytes | None:
        return await self.drop.get(self._config.report_dir, name)

    async def remove_report(self, name: str) -> None:
        await self.drop.remove(self._config.report_dir, name)

    async def aclose(self) -> None:
        await self.drop.aclose()
