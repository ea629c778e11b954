"""Pack directories watched by polling: a changed file is reloaded, a bad one refused.

A refusal never takes a pack out of service: the last good version of that file stays in force
and the refusal is kept beside it, so the gateway can log the event once and show it in health
until someone fixes the file. Reloading is a pure function of the files; the caller decides
when to call it (a timer, a signal, an admin request), which keeps this package free of threads.

Rules that keep decisions auditable:
- a pack's content may change only with its version, or a recorded "pack X version Y" would
  stop identifying the rules that decided;
- with check_examples, a pack whose own examples fail is refused like a malformed one;
- one payer has one pack per directory; a later directory overrides an earlier one (the shipped
  packs first, then an operator's directory).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from policies.book import PolicyBook
from policies.errors import PackError, PackRejected
from policies.example_runs import run_examples
from policies.pack import Pack, parse_pack

PACK_SUFFIXES = (".yaml", ".yml")
Action = Literal["loaded", "replaced", "refused", "removed"]


@dataclass(frozen=True)
class PackEvent:
    """One thing a reload did, worded for a log line (no case data is ever involved)."""

    file: str
    action: Action
    pack_id: str | None = None
    version: str | None = None
    errors: tuple[PackError, ...] = ()

    def __str__(self) -> str:
        what = f" {self.pack_id} {self.version}" if self.pack_id else ""
        text = f"{self.action}{what} ({self.file})"
        return text + "".join(f"\n  {error}" for error in self.errors)


@dataclass(frozen=True)
class ReloadReport:
    events: tuple[PackEvent, ...]

    @property
    def refused(self) -> tuple[PackEvent, ...]:
        return tuple(e for e in self.events if e.action == "refused")


@dataclass(frozen=True)
class PackStatus:
    """A file's pack in force (if any) and its latest refusal (if any), for a health page."""

    file: str
    pack_id: str | None
    payer: str | None
    version: str | None
    digest: str | None
    loaded_at: datetime | None
    in_force: bool
    refused_at: datetime | None
    refusal: tuple[PackError, ...]


@dataclass
class _FileState:
    directory: int
    signature: tuple[int, ...] | None = None
    pack: Pack | None = None
    loaded_at: datetime | None = None
    refused_at: datetime | None = None
    refusal: tuple[PackError, ...] = field(default_factory=tuple)


class PackDirectory:
    def __init__(
        self,
        directories: Sequence[Path],
        *,
        check_examples: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._directories = tuple(directories)
        self._check_examples = check_examples
        self._clock = clock
        self._files: dict[Path, _FileState] = {}
        self._unlisted: set[Path] = set()
        self._book = PolicyBook()

    @property
    def book(self) -> PolicyBook:
        return self._book

    def reload(self) -> ReloadReport:
        events: list[PackEvent] = []
        seen: set[Path] = set()
        for index, directory in enumerate(self._directories):
            try:
                paths = _pack_files(directory)
            except OSError as exc:
                if directory not in self._unlisted:
                    self._unlisted.add(directory)
                    error = PackError(str(directory), None, f"cannot list: {exc.strerror}")
                    events.append(PackEvent(str(directory), "refused", errors=(error,)))
                continue
            self._unlisted.discard(directory)
            for path in paths:
                seen.add(path)
                state = self._files.setdefault(path, _FileState(index))
                event = self._refresh(path, state)
                if event is not None:
                    events.append(event)
        for path in sorted(set(self._files) - seen):
            gone = self._files.pop(path)
            if gone.pack is not None:
                events.append(PackEvent(str(path), "removed", gone.pack.id, gone.pack.version))
        if any(event.action in ("removed", "replaced") for event in events):
            events.extend(self._retry_refused())
        self._book = PolicyBook(self._in_force())
        return ReloadReport(tuple(events))

    def _retry_refused(self) -> list[PackEvent]:
        """A removed or changed pack may free the payer a refused file asked for: look again."""
        events = []
        for path, state in sorted(self._files.items()):
            if state.pack is None and state.refusal:
                state.signature = None
                event = self._refresh(path, state)
                if event is not None and event.action != "refused":
                    events.append(event)
        return events

    def status(self) -> list[PackStatus]:
        in_force = {id(pack) for pack in self._book.packs.values()}
        return [
            PackStatus(
                file=str(path),
                pack_id=state.pack.id if state.pack else None,
                payer=state.pack.payer if state.pack else None,
                version=state.pack.version if state.pack else None,
                digest=state.pack.digest if state.pack else None,
                loaded_at=state.loaded_at,
                in_force=state.pack is not None and id(state.pack) in in_force,
                refused_at=state.refused_at,
                refusal=state.refusal,
            )
            for path, state in sorted(self._files.items())
        ]

    def _refresh(self, path: Path, state: _FileState) -> PackEvent | None:
        try:
            stat = path.stat()
            signature = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)
            if signature == state.signature:
                return None
            data = path.read_bytes()
        except OSError as exc:
            error = PackError(path.name, None, f"cannot read: {exc.strerror}")
            return self._refuse(path, state, None, [error])
        if state.pack is not None and hashlib.sha256(data).hexdigest()[:12] == state.pack.digest:
            state.signature = signature
            state.refusal, state.refused_at = (), None
            return None
        try:
            pack = self._checked(parse_pack(data, path.name), path, state)
        except PackRejected as rejected:
            return self._refuse(path, state, signature, rejected.errors)
        previous = state.pack
        state.signature, state.pack, state.loaded_at = signature, pack, self._clock()
        state.refusal, state.refused_at = (), None
        action: Action = "loaded" if previous is None else "replaced"
        return PackEvent(str(path), action, pack.id, pack.version)

    def _refuse(
        self,
        path: Path,
        state: _FileState,
        signature: tuple[int, ...] | None,
        errors: Sequence[PackError],
    ) -> PackEvent:
        state.signature = signature
        state.refusal, state.refused_at = tuple(errors), self._clock()
        kept = state.pack
        return PackEvent(
            str(path),
            "refused",
            kept.id if kept else None,
            kept.version if kept else None,
            state.refusal,
        )

    def _checked(self, pack: Pack, path: Path, state: _FileState) -> Pack:
        previous = state.pack
        if previous is not None and previous.version == pack.version:
            reason = f"the content changed but version {pack.version} did not; raise the version"
            raise PackRejected([PackError(path.name, None, reason)])
        for other_path, other in self._files.items():
            if other is state or other.pack is None or other.directory != state.directory:
                continue
            for attribute in ("payer", "id"):
                if getattr(other.pack, attribute) == getattr(pack, attribute):
                    value = getattr(pack, attribute)
                    reason = f"{attribute} {value} is already used by {other_path.name}"
                    raise PackRejected([PackError(path.name, None, reason)])
        if self._check_examples:
            failures = [
                PackError(
                    path.name, run.line, f"example '{run.name}' fails: {'; '.join(run.problems)}"
                )
                for run in run_examples(pack)
                if not run.passed
            ]
            if failures:
                raise PackRejected(failures)
        return pack

    def _in_force(self) -> dict[str, Pack]:
        """By payer; files are visited directory by directory, so a later directory wins."""
        packs: dict[str, Pack] = {}
        for _, state in sorted(self._files.items(), key=lambda item: (item[1].directory, item[0])):
            if state.pack is not None:
                packs[state.pack.payer] = state.pack
        return packs


def _pack_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in PACK_SUFFIXES and p.is_file())
