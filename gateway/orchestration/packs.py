"""The payer packs the gateway decides with: the shipped packs plus the operator's directories,
re-read on a timer. A refused file keeps its last good pack in force; the refusal is logged once
(file, line and reason; packs hold no case data) and stays visible in readiness until fixed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from gateway.settings import PolicySettings
from policies import SHIPPED_PACKS
from policies.pack_directory import PackDirectory, ReloadReport

_log = structlog.get_logger("casegate.policies")


def pack_directory(settings: PolicySettings) -> PackDirectory:
    return PackDirectory([SHIPPED_PACKS, *settings.directories])


def reload_packs(directory: PackDirectory) -> ReloadReport:
    report = directory.reload()
    for event in report.events:
        fields: dict[str, Any] = {"file": event.file, "pack": event.pack_id}
        fields["version"] = event.version
        if event.action == "refused":
            errors = [str(error) for error in event.errors]
            kept = "last good pack kept" if event.pack_id else "no pack from this file"
            _log.warning("policy pack refused", **fields, errors=errors, outcome=kept)
        else:
            _log.info(f"policy pack {event.action}", **fields)
    return report


async def run_pack_reloader(directory: PackDirectory, interval: float, stop: asyncio.Event) -> None:
    """Re-reads the pack files every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if not stop.is_set():
            await asyncio.to_thread(reload_packs, directory)


def packs_health(directory: PackDirectory) -> tuple[str, list[dict[str, Any]]]:
    """("ok" | "failed: ...", the files whose latest version was refused, with why)."""
    refused = [
        {
            "file": status.file,
            "in_force": f"{status.pack_id} {status.version}" if status.in_force else None,
            "refused_at": status.refused_at.isoformat() if status.refused_at else None,
            "errors": [str(error) for error in status.refusal],
        }
        for status in directory.status()
        if status.refusal
    ]
    check = "ok" if directory.book.packs else "failed: no policy pack in force"
    return check, refused
