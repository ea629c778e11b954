"""A 278 response (005010X217) built from the request it answers and a `Decision`.

A response echoes the request's hierarchy (same HL numbers, parties and traces, the trace
type turned from 1 to 2) and adds the outcome: an HCR at the patient event and at each
decided service, the certification period, the payer's own trace. A request that cannot be
processed is answered with an AAA at the loop that failed instead. This is what a payer, or
casegate's clearinghouse sandbox playing one, sends back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from canonical.decisions import Decision, ItemDecision
from mappings.x12.delimiters import Delimiters
from mappings.x12.errors import Location, X12Error
from mappings.x12.loop_tree import LoopNode, Placed
from mappings.x12.prior_auth_response import Rejection
from mappings.x12.segments import Segment, Value, build
from mappings.x12.vocabulary import ACTION_FOR_OUTCOME, decimal_text

# Per loop: the request segments echoed before the AAA position, and those echoed after it.
_ECHO: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "2000A": (frozenset({"HL"}), frozenset()),
    "2010A": (frozenset({"NM1"}), frozenset()),
    "2000B": (frozenset({"HL"}), frozenset()),
    "2010B": (frozenset({"NM1", "REF"}), frozenset({"PRV"})),
    "2000C": (frozenset({"HL"}), frozenset()),
    "2010C": (frozenset({"NM1", "REF", "N3", "N4"}), frozenset({"DMG", "INS"})),
    "2000D": (frozenset({"HL"}), frozenset()),
    "2010D": (frozenset({"NM1", "REF", "N3", "N4"}), frozenset({"DMG", "INS"})),
    "2010EA": (frozenset({"NM1", "REF", "N3", "N4"}), frozenset({"PER", "PRV"})),
    "2010F": (frozenset({"NM1", "REF", "N3", "N4"}), frozenset({"PER", "PRV"})),
}


class _Writer:
    def __init__(
        self,
        delimiters: Delimiters,
        decision: Decision | None,
        rejection: Rejection | None,
        originator: str,
    ) -> None:
        self.delimiters = delimiters
        self.decision = decision
        self.rejection = rejection
        self.originator = originator
        self.out: list[Segment] = []

    def add(self, segment_id: str, *elements: Value) -> None:
        self.out.append(build(segment_id, *elements, delimiters=self.delimiters))

    def echo(self, segment: Segment) -> None:
        self.out.append(Segment(list(segment.elements), self.delimiters))

    def rejected_at(self, loop_id: str) -> None:
        if self.rejection is not None and self.rejection.loop == loop_id:
            self.add("AAA", "N", None, self.rejection.reason_code, self.rejection.follow_up)


def response_body(
    request: LoopNode,
    *,
    created: datetime,
    decision: Decision | None = None,
    rejection: Rejection | None = None,
    originator: str = "9PAYERUMO0",
    delimiters: Delimiters | None = None,
) -> list[Segment]:
    """The segments between ST and SE answering the request whose loop tree is `request`.

    Exactly one of `decision` and `rejection` is given; `originator` is the payer's TRN03.
    """
    if (decision is None) == (rejection is None):
        raise ValueError("a response carries either a decision or a rejection")
    if len(originator) != 10:
        raise X12Error("the trace originator is 10 characters", Location(None, "TRN", 3))
    w = _Writer(delimiters or Delimiters(), decision, rejection, originator)
    bht = request.segment("BHT")
    if bht is None:
        raise X12Error("the request has no BHT", Location(None, "BHT"))
    w.add("BHT", "0007", "11", bht.get(3), f"{created:%Y%m%d}", f"{created:%H%M}")
    for node in request.loops("2000A"):
        _loop(w, node)
    return w.out


def _loop(w: _Writer, node: LoopNode) -> None:
    special: dict[str, Callable[[_Writer, LoopNode], None]] = {
        "2000E": _event,
        "2000F": _service,
    }
    if node.id in special:
        special[node.id](w, node)
        return
    if node.id not in _ECHO:
        return  # loops a response does not carry (transport, other UMO)
    before, after = _ECHO[node.id]
    own = [i.segment for i in node.items if isinstance(i, Placed)]
    for segment in own:
        if segment.id in before:
            w.echo(segment)
    w.rejected_at(node.id)
    for segment in own:
        if segment.id in after:
            w.echo(segment)
    for child in node.items:
        if isinstance(child, LoopNode):
            _loop(w, child)


def _event(w: _Writer, node: LoopNode) -> None:
    _echo_level_and_trace(w, node)
    decision = w.decision
    if decision is not None and decision.payer_reference:
        if len(decision.payer_reference) > 50:
            raise X12Error("a trace number is at most 50 characters", Location(None, "TRN", 2))
        w.add("TRN", "1", decision.payer_reference, w.originator)
    w.rejected_at(node.id)
    for um in node.segments("UM"):
        w.echo(um)
    if decision is not None:
        action = ACTION_FOR_OUTCOME[decision.outcome].value
        _review(w, action, decision.auth_number, decision.reason_code)
        period = decision.authorized_period
        if period is not None:
            if period.end is None or period.end == period.start:
                w.add("DTP", "007", "D8", f"{period.start:%Y%m%d}")
            else:
                w.add("DTP", "007", "RD8", f"{period.start:%Y%m%d}-{period.end:%Y%m%d}")
        if decision.reason_text:
            if len(decision.reason_text) > 264:
                raise X12Error("a message is at most 264 characters", Location(None, "MSG", 1))
            w.add("MSG", decision.reason_text)
    for child in node.items:
        if isinstance(child, LoopNode):
            _loop(w, child)


def _service(w: _Writer, node: LoopNode) -> None:
    sequence = _echo_level_and_trace(w, node)
    w.rejected_at(node.id)
    for um in node.segments("UM"):
        w.echo(um)
    item = _item(w.decision, sequence)
    if item is not None:
        _review(w, item.action.value, None, item.reason_code)
    for segment_id in ("DTP", "SV1", "SV2", "SV3"):
        for segment in node.segments(segment_id):
            w.echo(segment)
    if item is not None and item.authorized_units is not None:
        w.add("HSD", "FL", decimal_text(item.authorized_units))
    for child in node.items:
        if isinstance(child, LoopNode):
            _loop(w, child)


def _echo_level_and_trace(w: _Writer, node: LoopNode) -> str:
    """Echo the HL and the requester's TRN as TRN01 = 2; returns the echoed trace number."""
    hl = node.segment("HL")
    if hl is None:
        raise X12Error("a level without its HL", Location(None, "HL"))
    w.echo(hl)
    trn = node.segment("TRN", "1")
    if trn is None:
        return ""
    w.add("TRN", "2", *(trn.get(i) for i in range(2, len(trn.elements))))
    return trn.get(2)


def _review(w: _Writer, action: str, number: str | None, reason: str | None) -> None:
    if reason is not None and len(reason) != 2:
        raise X12Error("a review decision reason code is 2 characters", Location(None, "HCR", 3))
    w.add("HCR", action, number, reason)


def _item(decision: Decision | None, sequence: str) -> ItemDecision | None:
    if decision is None or not sequence.isdigit():
        return None
    return next((i for i in decision.items if i.sequence == int(sequence)), None)
