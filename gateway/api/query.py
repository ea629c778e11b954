"""Unknown query parameters are refused, as unknown body fields are: a misspelt filter
(`?stauts=denied`) silently ignored would return every case instead of none."""

from __future__ import annotations

from typing import Any

from litestar import Request

from gateway.problems import FieldError, Problem


async def refuse_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    if not request.scope.get("query_string") or not request.query_params:
        return  # most requests have no query: no parsing for them
    declared = request.route_handler.parsed_fn_signature.parameters
    unknown = sorted(name for name in request.query_params if name not in declared)
    if unknown:
        raise Problem(
            400,
            "Bad Request",
            "unknown query parameters",
            "bad-parameters",
            [FieldError(None, "not a parameter of this operation", f"query:{n}") for n in unknown],
        )
