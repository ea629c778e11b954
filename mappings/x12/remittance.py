"""835 remittance advice (005010X221A1) -> canonical `Remittance`, whole or streamed by claim.

`read_835` maps a validated loop tree. `stream_835` reads a file of any size in bounded
memory: the header is kept, each claim (CLP up to the next CLP, LX, PLB or SE) is validated
against the same description and mapped on its own, and the envelope counts are checked as
the segments pass. A consumer should stage what it receives and act only once the stream has
ended without an error, as an invalid file is refused as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from pydantic import ValidationError

from canonical.remittance import ClaimPayment, ProviderAdjustment, Remittance
from mappings.x12.errors import CanonicalMappingError, Location, X12Error
from mappings.x12.findings import SEGMENT_CODES
from mappings.x12.loop_tree import LoopNode, read_transaction
from mappings.x12.schema import TransactionSpec
from mappings.x12.segments import Segment, iter_segments
from mappings.x12.specs.x221_835 import HEADER_NUMBER, PAYMENT
from mappings.x12.tree_reading import OwnSegments, amount, needed, present, ref_value, x12_date

_CAS_REASONS = (2, 5, 8, 11, 14, 17)
# Segments that end a claim in the stream: the next header number, claim, PLB or the trailer.
_BOUNDARIES = frozenset(("LX", "CLP", "PLB", "SE"))
_OUTSIDE_CLAIMS = _BOUNDARIES | {"ST", "ISA", "GS", "GE", "IEA"}
_PLB_PAIRS = (3, 5, 7, 9, 11, 13)
# One header number with one claim: the unit `stream_835` validates and maps at a time.
HEADER_NUMBER_SET = TransactionSpec(
    set_id="835",
    reference=PAYMENT.reference,
    name="One claim of a health care claim payment/advice",
    functional_id=PAYMENT.functional_id,
    root=HEADER_NUMBER,
)


def read_835(tree: LoopNode) -> Remittance:
    """The canonical remittance in a validated 835's loop tree."""
    header = [item.segment for item in tree.items if not isinstance(item, LoopNode)]
    payer = next(tree.find_loops("1000A"), None)
    payee = next(tree.find_loops("1000B"), None)
    claims = [claim_payment(node, index) for index, node in enumerate(tree.find_loops("2100"))]
    return _remittance(header, payer, payee, claims)


def claim_payment(node: LoopNode, index: int = 0) -> ClaimPayment:
    """One 2100 loop (CLP, its CAS, names, dates and 2110 service lines) as a claim payment."""
    own = OwnSegments(node)
    clp = needed(next(iter(own.all("CLP")), None), "CLP")
    member = own.get("NM1", "IL") or own.get("NM1", "QC")
    rendering = own.get("NM1", "82")
    start, end = own.get("DTM", "232"), own.get("DTM", "233")
    values = clp.values(9)
    fields: dict[str, Any] = present(
        patient_account_number=values[1],
        status=values[2],
        charge=values[3],
        paid=values[4],
        patient_responsibility=values[5],
        filing_indicator=values[6],
        payer_claim_id=values[7],
        facility_code=values[8],
        frequency_code=values[9],
        member_id=member.get(9) if member else None,
        rendering_npi=rendering.get(9) if rendering else None,
        service_period=_span(start, end),
    )
    fields["adjustments"] = _adjustments(own.all("CAS"))
    fields["lines"] = [_line(line) for line in node.loops("2110")]
    try:
        return ClaimPayment.model_validate(fields)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc, f"/claims/{index}") from None


def _remittance(
    header: Sequence[Segment],
    payer: LoopNode | None,
    payee: LoopNode | None,
    claims: list[ClaimPayment],
) -> Remittance:
    by_id: dict[str, list[Segment]] = {}
    for segment in header:
        by_id.setdefault(segment.id, []).append(segment)
    bpr = needed(next(iter(by_id.get("BPR", [])), None), "BPR")
    trn = needed(next(iter(by_id.get("TRN", [])), None), "TRN")
    payer_n1 = payer.segment("N1") if payer else None
    payee_n1 = needed(payee.segment("N1") if payee else None, "N1")
    payer_id = (payer_n1.get(4) if payer_n1 else "") or (ref_value(payer, "2U") if payer else None)
    fields: dict[str, Any] = {
        "payment": present(
            handling=bpr.get(1),
            amount=amount(bpr.get(2), "BPR", 2),
            credit=bpr.get(3) == "C",
            method=bpr.get(4),
            paid_on=x12_date(bpr.get(16), "BPR").isoformat() if bpr.get(16) else None,
            trace_number=trn.get(2),
            originator=trn.get(3),
        ),
        "payer_id": payer_id or None,
        "payer_name": payer_n1.text(2) if payer_n1 else "",
        "payee_name": payee_n1.text(2),
        "payee_id_qualifier": payee_n1.get(3),
        "payee_id": payee_n1.get(4),
        "claims": claims,
        "provider_adjustments": [
            adjustment for plb in by_id.get("PLB", []) for adjustment in _provider_adjustments(plb)
        ],
    }
    try:
        return Remittance.model_validate(fields)
    except ValidationError as exc:
        raise CanonicalMappingError.refused(exc) from None


def _span(start: Segment | None, end: Segment | None) -> dict[str, date] | None:
    if start is None and end is None:
        return None
    first = x12_date((start or end).get(2), "DTM")  # type: ignore[union-attr]
    last = x12_date(end.get(2), "DTM") if end else first
    return {"start": first, "end": last}


def _adjustments(segments: list[Segment]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for cas in segments:
        values = cas.values(len(cas) + 1)
        for position in _CAS_REASONS:
            if position < len(values) - 1 and values[position]:
                found.append(
                    {
                        "group": values[1],
                        "reason_code": values[position],
                        "amount": values[position + 1],
                    }
                )
    return found


def _line(node: LoopNode) -> dict[str, Any]:
    own = OwnSegments(node)
    svc = needed(next(iter(own.all("SVC")), None), "SVC")
    procedure = svc.components(1)
    dated = own.get("DTM", "472")
    start, end = own.get("DTM", "150"), own.get("DTM", "151")
    line = present(
        procedure_qualifier=procedure[0] if procedure else "",
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        charge=svc.get(2),
        paid=svc.get(3),
        units=svc.get(5),
        service_period=_span(dated, dated) if dated else _span(start, end),
        line_control_number=control.get(2) if (control := own.get("REF", "6R")) else None,
    )
    line["modifiers"] = [m for m in procedure[2:6] if m]
    line["adjustments"] = _adjustments(own.all("CAS"))
    line["remarks"] = [lq.get(2) for lq in own.all("LQ") if lq.get(2)]
    return line


def _provider_adjustments(plb: Segment) -> Iterator[ProviderAdjustment]:
    for position in _PLB_PAIRS:
        reason = plb.components(position)
        if not reason or not reason[0]:
            continue
        try:
            yield ProviderAdjustment(
                provider_id=plb.get(1),
                fiscal_period_end=x12_date(plb.get(2), "PLB"),
                reason_code=reason[0],
                reference=reason[1] if len(reason) > 1 and reason[1] else None,
                amount=amount(plb.get(position + 1), "PLB", position + 1),
            )
        except ValidationError as exc:
            raise CanonicalMappingError.refused(exc, "/provider_adjustments") from None


@dataclass(slots=True)
class StreamedRemittance:
    """What `stream_835` learned besides the claims: the payment header and the PLB entries."""

    remittance: Remittance | None = None
    claims: int = 0


def stream_835(
    stream: BinaryIO, summary: StreamedRemittance | None = None
) -> Iterator[ClaimPayment]:
    """Each claim payment of a one-835 interchange, read in bounded memory.

    `summary.remittance` (the payment, parties and PLBs, without claims) is set at the end.
    Raises `X12Error` at the first segment in error, or if the envelope does not add up.
    """
    reader = _ClaimStream(summary or StreamedRemittance())
    add = reader.add
    for position, segment in enumerate(iter_segments(stream), start=1):
        claim = add(segment, position)
        if claim is not None:
            yield claim
    reader.finish()


class _ClaimStream:
    """Cuts the segment stream into header, header-number blocks, claims and trailer."""

    def __init__(self, summary: StreamedRemittance) -> None:
        self.summary = summary
        self.header: list[Segment] = []
        self.header_start = 0
        self.header_tree: LoopNode | None = None
        # LX with its TS3/TS2, and the current claim: each a run of consecutive segments, so
        # the position of its first one locates them all
        self.number: list[Segment] = []
        self.number_start = 0
        self.claim: list[Segment] = []
        self.claim_start = 0
        self.plb: list[Segment] = []
        self.in_set = False
        self.set_count = 0
        self.envelope: list[str] = []

    def add(self, segment: Segment, position: int) -> ClaimPayment | None:
        """Takes the next segment; returns the claim it completes, if it completes one."""
        sid = segment.elements[0]
        if self.claim and sid not in _OUTSIDE_CLAIMS:
            self.set_count += 1
            self.claim.append(segment)
            return None
        if sid == "ST":
            if self.header:
                raise X12Error("one 835 per stream", Location(position, "ST"))
            self.in_set, self.set_count, self.header_start = True, 0, position
        self.set_count += self.in_set
        done = self._claim_done() if self.claim and sid in _BOUNDARIES else None
        if sid in ("ISA", "GS", "GE", "IEA"):
            self.envelope.append(sid)
        elif not self.in_set:
            raise X12Error(SEGMENT_CODES["2"], Location(position, sid))
        elif sid in _BOUNDARIES:
            self._header_done()
            self._boundary(segment, position)
        elif self.claim:
            self.claim.append(segment)
        elif self.number:
            self.number.append(segment)
        elif self.header_tree is None:
            self.header.append(segment)
        else:
            raise X12Error(SEGMENT_CODES["2"], Location(position, sid))
        return done

    def _boundary(self, segment: Segment, position: int) -> None:
        sid = segment.id
        if sid == "LX":
            self.number, self.number_start = [segment], position
        elif sid == "CLP":
            if not self.number:
                raise X12Error("a claim needs a header number (LX) first", Location(position, sid))
            self.claim, self.claim_start = [segment], position
        elif sid == "PLB":
            self.number = []
            self.plb.append(segment)
        else:
            self._trailer(segment, position)

    def _header_done(self) -> None:
        if self.header_tree is not None:
            return
        if not self.header:
            raise X12Error("an 835 starts with its ST", Location(None, "ST"))
        body = [*self.header, Segment(["SE", "1", "0001"], self.header[0].delimiters)]
        tree, errors = read_transaction(PAYMENT, body)
        for error in errors:
            if error.position <= len(self.header):
                where = Location(self.header_start + error.position - 1, error.segment_id)
                raise X12Error(SEGMENT_CODES.get(error.code, "segment in error"), where)
        self.header_tree = tree

    def _claim_done(self) -> ClaimPayment:
        number, claim = self.number, self.claim
        self.claim = []
        tree, errors = read_transaction(HEADER_NUMBER_SET, [*number, *claim])
        if errors:
            first = errors[0]
            index = min(first.position, len(number) + len(claim)) - 1
            position = (
                self.number_start + index
                if index < len(number)
                else self.claim_start + index - len(number)
            )
            where = Location(position, first.segment_id)
            raise X12Error(SEGMENT_CODES.get(first.code, "segment in error"), where)
        self.summary.claims += 1
        return claim_payment(tree.loops("2100")[0], self.summary.claims - 1)

    def _trailer(self, se: Segment, position: int) -> None:
        if se.get(1) != str(self.set_count):
            raise X12Error(
                "number of included segments does not match actual count",
                Location(position, "SE", 1),
            )
        self.in_set = False
        tree = self.header_tree
        if tree is None:
            raise X12Error("an 835 needs its header", Location(position, "SE"))
        self.summary.remittance = _remittance(
            [*self.header, *self.plb],
            next(tree.find_loops("1000A"), None),
            next(tree.find_loops("1000B"), None),
            [],
        )

    def finish(self) -> None:
        if self.envelope[-2:] != ["GE", "IEA"] or self.in_set or self.summary.remittance is None:
            raise X12Error("the interchange ends before its trailers", Location(None, "IEA"))
