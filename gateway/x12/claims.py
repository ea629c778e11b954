"""Claims as they were submitted, which a denial appeal is built from.

An 835 names a claim by its patient account number and carries no birth date, coverage or
provider name; the appeal needs them, so they come from the claim the billing system sent.
Here the billing system leaves each submitted claim as canonical JSON, named by its account
number, in a folder the gateway reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from canonical.claims import Claim


class ClaimFolder:
    def __init__(self, folder: Path | None) -> None:
        self._folder = folder

    async def claims(self, account_numbers: Iterable[str]) -> dict[str, Claim]:
        """The known claims among `account_numbers`; unreadable files count as unknown."""
        return await asyncio.to_thread(self._read, set(account_numbers))

    def _read(self, account_numbers: set[str]) -> dict[str, Claim]:
        found: dict[str, Claim] = {}
        if self._folder is None:
            return found
        for number in account_numbers:
            if not number or "/" in number or "\\" in number or number.startswith("."):
                continue
            path = self._folder / f"{number}.json"
            try:
                claim = Claim.model_validate_json(path.read_bytes())
            except (OSError, ValidationError):
                continue
            if claim.patient_account_number == number:
                found[number] = claim
        return found
