"""casegate policies: payer rule packs (versioned YAML files) decided by the zen rules engine.

Pure: reads the pack files it is given and nothing else; no gateway, no network, no logging
configuration. The gateway holds a `PackDirectory`, calls `reload()` on its own schedule (logging
each event and showing `status()` in health) and asks `book.decide(case)` for each case.
"""

from pathlib import Path

SHIPPED_PACKS = Path(__file__).parent / "packs"
