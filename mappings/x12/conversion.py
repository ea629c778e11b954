"""`casegate convert` for X12 in: `x12 -> canonical` (writing X12 is `conversion_outbound`).

Reading detects each transaction from ST01 and its guide (ST03, else GS08); one transaction
gives one JSON object, several give a list. An interchange that fails its checks is refused
with the acknowledgment it earns: a TA1 when the envelope is at fault, else a 999. The answer
echoes the received ISA13 as its own control number and is stamped with the current time;
the connector, which keeps per-partner counters, builds its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mappings.conversions import ConversionError, LocatedError, register
from mappings.x12.ack_999 import build_999, read_999
from mappings.x12.ack_ta1 import build_ta1, read_ta1, ta1_for_unreadable
from mappings.x12.canonical_documents import canonical_document
from mappings.x12.errors import CanonicalMappingError, X12Error
from mappings.x12.prior_auth_request_reader import read_278_request
from mappings.x12.prior_auth_response import read_278_response
from mappings.x12.specs import X217_REQUEST, X217_RESPONSE, X231_999
from mappings.x12.validation import CheckedInterchange, CheckedTransaction, read


@register("x12", "canonical")
def x12_to_canonical(data: bytes) -> bytes:
    now = datetime.now(UTC)
    try:
        interchanges = read(data)
    except X12Error as exc:
        rejection = ta1_for_unreadable(
            data, exc.ta1_code or "024", control_number=_echo_number(data[90:99]), created=now
        )
        errors = [LocatedError(str(exc.location), exc.problem)]
        raise ConversionError("unreadable X12", errors, rejection) from None
    refused = [ic for ic in interchanges if not ic.accepted]
    if refused:
        errors = [LocatedError(w, m) for ic in refused for w, m in ic.located_errors()]
        rejection = b"".join(_rejection(ic, now) for ic in refused)
        raise ConversionError(f"{len(errors)} error(s) in the interchange", errors, rejection)
    documents: list[dict[str, Any]] = []
    for checked in interchanges:
        for ta1 in checked.interchange.acknowledgments:
            documents.append({"interchange_acknowledgment": read_ta1(ta1).to_json()})
        documents.extend(_document(t) for t in checked.transactions)
    if not documents:
        raise ConversionError("the interchange holds no transaction set")
    output = documents[0] if len(documents) == 1 else documents
    return json.dumps(output, indent=2).encode() + b"\n"


def _echo_number(field: bytes) -> int:
    text = field.decode("latin-1")
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else 1


def _rejection(checked: CheckedInterchange, now: datetime) -> bytes:
    number = _echo_number(checked.interchange.control_number.encode("latin-1"))
    ta1_code = checked.report.ta1_code
    try:
        if ta1_code != "000" or not checked.report.groups:
            answer = build_ta1(
                checked.interchange, ta1_code, control_number=number, created=now, line_break="\n"
            )
        else:
            answer = build_999(checked, control_number=number, created=now, line_break="\n")
    except X12Error:
        return b""  # the envelope is too broken to address an answer to
    return answer.to_bytes()


def _document(checked: CheckedTransaction) -> dict[str, Any]:
    transaction = checked.transaction
    head: dict[str, Any] = {
        "transaction_set": transaction.set_id,
        "control_number": transaction.control_number,
    }
    tree = checked.tree
    if tree is None:  # unsupported sets never pass validation; kept for the type checker
        raise ConversionError(f"transaction set {transaction.set_id} is not supported")
    body: dict[str, Any]
    try:
        if checked.spec is X217_REQUEST:
            case_id, request = read_278_request(tree)
            body = {
                "case_type": "prior_authorization",
                "case_id": case_id,
                "payload": request.model_dump(mode="json"),
            }
        elif checked.spec is X217_RESPONSE:
            response = read_278_response(tree)
            body = {
                "case_id": response.case_id,
                "decision": response.decision.model_dump(mode="json"),
                "rejections": [
                    {"loop": r.loop, "reason_code": r.reason_code, "follow_up": r.follow_up}
                    for r in response.rejections
                ],
            }
        elif checked.spec is X231_999:
            body = {"acknowledgment": read_999(tree).to_json()}
        elif checked.spec is not None and (found := canonical_document(checked.spec, tree)):
            body = found
        else:
            raise ConversionError(f"no canonical form for transaction set {transaction.set_id}")
    except CanonicalMappingError as exc:
        where = f"transaction set {transaction.set_id} at segment {transaction.position}"
        errors = [LocatedError(f"{where}: {p}", m) for p, m in exc.problems]
        raise ConversionError("the transaction does not map to canonical", errors) from None
    except X12Error as exc:
        where = f"transaction set {transaction.set_id} at segment {transaction.position}"
        raise ConversionError(
            "the transaction does not map to canonical",
            [LocatedError(f"{where}: {exc.location}", exc.problem)],
        ) from None
    return head | body
