"""The few lines of a cProfile dump worth printing next to the figures.

Own time (not cumulative) ranks the hot spots: in an event loop a coroutine's cumulative time
is split across every resumption, so only own time adds up. First-party code is listed apart,
ranked by cumulative time, to say which of our steps the own time is spent under.
"""

from __future__ import annotations

import pstats
from pathlib import Path

FIRST_PARTY = ("/gateway/", "/connectors/", "/mappings/", "/canonical/", "/policies/")


def _where(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    parts = Path(filename).parts
    tail = "/".join(parts[-3:]) if "site-packages" in parts else "/".join(parts[-2:])
    return f"{tail}:{line} {function}"


def hot_spots(path: Path, limit: int = 12) -> list[str]:
    stats = pstats.Stats(str(path))
    rows = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table untyped
    total = sum(row[2] for row in rows.values()) or 1.0
    by_own = sorted(rows.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    ours = [item for item in rows.items() if any(p in item[0][0] for p in FIRST_PARTY)]
    by_cumulative = sorted(ours, key=lambda item: item[1][3], reverse=True)[:limit]
    lines = [f"    own time ({total:.1f} s profiled):"]
    lines += [f"      {row[2] / total:6.1%}  {_where(*key)}" for key, row in by_own]
    lines.append("    first-party code by cumulative time:")
    lines += [f"      {row[3] / total:6.1%}  {_where(*key)}" for key, row in by_cumulative]
    return lines
