"""OPTIONS answers that list every method a path serves."""

from __future__ import annotations

from litestar import Response, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler


def _options(path: str, methods: list[str]) -> HTTPRouteHandler:
    allow = ", ".join(methods)

    async def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow})

    return route(path, http_method=[HttpMethod.OPTIONS], include_in_schema=False)(options)


def with_allow(handlers: list[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """Put an OPTIONS handler first for every path served by several handlers.

    Litestar (2.25) answers OPTIONS with the methods of the first handler registered for a path
    only, so `Allow` would omit DELETE beside GET; an explicit handler registered before the
    others lists them all.
    """
    methods: dict[str, set[str]] = {}
    for handler in handlers:
        for path in handler.paths:
            methods.setdefault(path, set()).update(handler.http_methods)
    shared = [
        _options(path, sorted(found | {"OPTIONS"}))
        for path, found in methods.items()
        if len(found) > 1
    ]
    return [*shared, *handlers]
