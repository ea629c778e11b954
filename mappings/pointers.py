"""Where in a document an error is: pydantic error locations as RFC 6901 JSON pointers.

Messages are pydantic's own, without the offending value (it may be PHI), and with the
"Value error, " prefix pydantic adds to our validators' messages removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError


def json_pointer(location: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in location)


def located(exc: ValidationError) -> list[tuple[str, str]]:
    return [
        (json_pointer(e["loc"]), e["msg"].removeprefix("Value error, "))
        for e in exc.errors(include_input=False, include_url=False, include_context=False)
    ]
