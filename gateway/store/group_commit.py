"""Group commit: many callers, one transaction, one fsync.

Durability costs one disk flush per commit, so committing each caller's work separately caps
the gateway at the disk's flush rate (and, on SQLite, makes writers take turns for the lock).
Instead callers queue their items and wait; one writer task takes everything queued, writes it
in a single transaction, and only then answers every caller. Nothing is answered before its
commit. Intake records, send outcomes and stand-alone audit entries all go through this one
mechanism; each writer says only how a batch is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class _Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]


class GroupCommit(Generic[Item, Result]):
    """Subclasses implement `_write` (one transaction for the batch, one result per item).

    `batches` counts write transactions and `rows` the items they committed.
    """

    stopped_error: type[Exception] = RuntimeError
    task_name = "casegate-group-commit"

    def __init__(self, max_batch: int = 512) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending[Item, Result] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self.batches = 0
        self.rows = 0

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError(f"{self.task_name} is already running")
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """Refuse new items, write everything already queued, then end the writer."""
        if self._task is None:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        task, self._task = self._task, None
        await task

    async def _submit(self, item: Item) -> Result:
        """Queue the item and wait until it is committed (or refused)."""
        if not self._accepting:
            raise self.stopped_error(f"{self.task_name} is not running; nothing was stored")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(item, future))
        return await future

    async def _write(self, items: Sequence[Item]) -> list[Result]:
        raise NotImplementedError

    def _settled(self, items: Sequence[Item]) -> None:
        """Called once a batch's callers are answered, whatever the outcome."""

    async def _run(self) -> None:
        batch: list[_Pending[Item, Result]] = []
        try:
            while True:
                pending = await self._queue.get()
                while pending is not None:
                    batch.append(pending)
                    if len(batch) >= self._max_batch or self._queue.empty():
                        break
                    pending = self._queue.get_nowait()
                if batch:
                    await self._commit(batch)
                    batch = []
                if pending is None:
                    return
        except BaseException:
            # The writer is going away (cancelled, or a bug): no caller may wait forever.
            while not self._queue.empty():
                queued = self._queue.get_nowait()
                if queued is not None:
                    batch.append(queued)
            for waiting in batch:
                _settle(waiting, self.stopped_error(f"{self.task_name} stopped"))
            self._settled([p.item for p in batch])
            raise

    async def _commit(self, batch: list[_Pending[Item, Result]]) -> None:
        try:
            try:
                results = await self._counted([p.item for p in batch])
            except Exception:
                # One bad item must not sink its neighbours: retry each on its own, so only the
                # culprit's caller sees the error.
                for pending in batch:
                    try:
                        (result,) = await self._counted([pending.item])
                    except Exception as exc:
                        _settle(pending, exc)
                    else:
                        _settle(pending, result)
            else:
                for pending, result in zip(batch, results, strict=True):
                    _settle(pending, result)
        finally:
            self._settled([p.item for p in batch])

    async def _counted(self, items: list[Item]) -> list[Result]:
        self.batches += 1
        results = await self._write(items)
        self.rows += len(items)
        return results


def _settle(pending: _Pending[Item, Result], result: Result | BaseException) -> None:
    if pending.future.done():  # the caller gave up waiting; what was written stands
        return
    if isinstance(result, BaseException):
        pending.future.set_exception(result)
    else:
        pending.future.set_result(result)
