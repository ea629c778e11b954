"""The clearinghouse sandbox's judgement: what it answers to an interchange, once per payload.

An interchange that fails its envelope checks earns a TA1, one whose transactions fail their
implementation guide a 999 rejection; an accepted one gets a 999 and the payer's answers: a
278 response decided by the same scriptable rules as the payer REST sandbox, a 271 and a 277
from `PayerFacts`. Effects are counted per payload id (the CORE PayloadID, or the batch file's
name), so a resend is answered from the log, and a second interchange reusing a sender's ISA13
is refused as a duplicate.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from canonical.cases import PriorAuthorizationRequest
from canonical.claim_status import ClaimStatus, ClaimStatusResult, StatusCode
from canonical.decisions import Decision, DecisionOutcome
from canonical.eligibility import Benefit, EligibilityResult
from connectors.payer_rest.sandbox_rules import (
    Rule,
    ServiceRequested,
    Submission,
    decide,
    first_match,
)
from connectors.sandbox_kit import FaultQueue
from connectors.x12_clearinghouse import core_form as core
from mappings.x12 import (
    CheckedInterchange,
    CheckedTransaction,
    Group,
    Interchange,
    Rejection,
    Transaction,
    X12Error,
    build_999,
    build_interchange,
    build_ta1,
    read,
    read_278_request,
    reply_header,
    response_body,
    ta1_for_unreadable,
)
from mappings.x12 import claim_status as x212
from mappings.x12 import eligibility as x279
from mappings.x12.errors import CanonicalMappingError
from mappings.x12.loop_tree import LoopNode
from mappings.x12.schema import TransactionSpec
from mappings.x12.segments import Segment
from mappings.x12.specs import (
    X212_276,
    X212_277,
    X217_REQUEST,
    X217_RESPONSE,
    X279_270,
    X279_271,
)

_ANSWERED = (X217_REQUEST, X279_270, X212_276)

# What the payer says to a request it cannot read into a review: required data missing.
UNREADABLE_REQUEST = Rejection("2000E", "15", "C")
# An inquiry about a review this payer does not know: do not resend.
UNKNOWN_REVIEW = Rejection("2000E", "15", "N")


@dataclass(frozen=True)
class PayerFacts:
    """What the sandbox payer answers to eligibility and claim status inquiries."""

    inactive_member_prefix: str = "INACTIVE"
    auth_required: frozenset[str] = frozenset({"2", "42", "73"})  # surgical, home health, DME
    denied_claim_prefix: str = "DENIED"


@dataclass(frozen=True)
class Answer:
    payload_type: str  # the CORE PayloadType of the main interchange in `data`
    data: bytes


@dataclass
class _Review:
    submission: Submission
    rule: Rule
    auth_number: str
    decision: Decision
    inquiries: int = 0
    pended_at: float = 0.0


@dataclass
class _Totals:
    requests: int = 0
    effects: int = 0
    duplicates: int = 0
    inquiries: int = 0
    rejected: int = 0


@dataclass
class ClearinghouseLedger:
    rules: Sequence[Rule] = ()
    interchange_id: str = "CLEARINGHOUSE"
    known_senders: frozenset[str] | None = None
    eligibility: PayerFacts = field(default_factory=PayerFacts)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _answers: dict[str, Answer] = field(default_factory=dict)
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)
    _reviews: dict[str, _Review] = field(default_factory=dict)
    faults: FaultQueue = field(default_factory=FaultQueue)
    _totals: _Totals = field(default_factory=_Totals)
    _serial: int = 0

    # -- controls -----------------------------------------------------------------------

    def effects(self, key: str | None = None) -> int:
        with self._lock:
            if key is None:
                return self._totals.effects
            return 1 if _payload_id(key) in self._answers else 0

    def totals(self) -> dict[str, int]:
        with self._lock:
            t = self._totals
            return {
                "requests": t.requests,
                "effects": t.effects,
                "duplicates": t.duplicates,
                "inquiries": t.inquiries,
                "rejected": t.rejected,
            }

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self._seen.clear()
            self._totals = _Totals()
        self.faults.clear()

    # -- the clearinghouse ---------------------------------------------------------------

    def answer(self, payload_id: str, data: bytes) -> Answer:
        """The answer to `data` sent under `payload_id`: from the log when it was seen before.

        The payload id alone identifies a payload: a resend may be re-stamped (ISA09/ISA10).
        """
        with self._lock:
            self._totals.requests += 1
            known = self._answers.get(payload_id)
            if known is not None:
                self._totals.duplicates += 1
                return known
            self._serial += 1
            answer, acted = self._judge(data, payload_id)
            if acted:
                self._answers[payload_id] = answer
                self._totals.effects += 1
            else:
                self._totals.rejected += 1
            return answer

    def _next_number(self) -> int:
        self._serial += 1
        return self._serial

    def _judge(self, data: bytes, payload_id: str) -> tuple[Answer, bool]:
        now = datetime.now(UTC)
        try:
            interchanges = read(data)
        except X12Error as exc:
            ta1 = ta1_for_unreadable(
                data, exc.ta1_code or "024", control_number=self._next_number(), created=now
            )
            return Answer(core.RESPONSE_TYPES["TA1"], ta1 or b""), False
        if not interchanges:
            return Answer(core.RESPONSE_TYPES["TA1"], b""), False
        parts: list[bytes] = []
        main_type = core.RESPONSE_TYPES["999"]
        acted = False
        for checked in interchanges:
            refusal = self._refusal(checked, payload_id, now)
            if refusal is not None:
                parts.append(refusal.data)
                main_type = refusal.payload_type
                continue
            acknowledgment = build_999(checked, control_number=self._next_number(), created=now)
            parts.append(acknowledgment.to_bytes())
            by_spec: dict[TransactionSpec, list[Transaction]] = {}
            for transaction in checked.transactions:
                spec, response = self._respond(transaction, now)
                by_spec.setdefault(spec, []).append(response)
            if by_spec:
                header = reply_header(
                    checked.interchange, control_number=self._next_number(), created=now
                )
                groups = [
                    Group(spec.functional_id, spec.reference, self._next_number(), answers)
                    for spec, answers in by_spec.items()
                ]
                parts.append(build_interchange(header, groups).to_bytes())
                main_type = core.RESPONSE_TYPES[next(iter(by_spec)).set_id]
            acted = True
        return Answer(main_type, b"".join(parts)), acted

    def _refusal(
        self, checked: CheckedInterchange, payload_id: str, now: datetime
    ) -> Answer | None:
        interchange = checked.interchange
        sender = interchange.sender[1]
        note = checked.report.ta1_code
        if note == "000" and self.known_senders is not None and sender not in self.known_senders:
            note = "006"
        if note == "000" and interchange.receiver[1] != self.interchange_id:
            note = "009"
        first = self._seen.setdefault((sender, interchange.control_number), payload_id)
        if note == "000" and first != payload_id:
            note = "025"
        if note != "000" or not checked.report.groups:
            ta1 = _ta1(interchange, note if note != "000" else "024", self._next_number(), now)
            return Answer(core.RESPONSE_TYPES["TA1"], ta1)
        if not checked.accepted:
            rejection = build_999(checked, control_number=self._next_number(), created=now)
            return Answer(core.RESPONSE_TYPES["999"], rejection.to_bytes())
        if any(t.spec not in _ANSWERED for t in checked.transactions):
            # Valid X12 this clearinghouse does not route in real time: refused as unsupported.
            for transaction in checked.transactions:
                if transaction.spec not in _ANSWERED:
                    transaction.report.codes.append("1")
            rejection = build_999(checked, control_number=self._next_number(), created=now)
            return Answer(core.RESPONSE_TYPES["999"], rejection.to_bytes())
        return None

    def _respond(
        self, checked: CheckedTransaction, now: datetime
    ) -> tuple[TransactionSpec, Transaction]:
        tree = checked.tree
        assert tree is not None
        number = checked.transaction.control_number
        if checked.spec is X279_270:
            return X279_271, Transaction("271", number, self._benefits(tree, now))
        if checked.spec is X212_276:
            return X212_277, Transaction("277", number, self._claim_status(tree, now))
        return X217_RESPONSE, Transaction("278", number, self._review_body(tree, now))

    def _review_body(self, tree: LoopNode, now: datetime) -> list[Segment]:
        try:
            case_id, request = read_278_request(tree)
        except (CanonicalMappingError, X12Error):
            return response_body(tree, created=now, rejection=UNREADABLE_REQUEST)
        event = next(tree.find_loops("2000E"), None)
        named = event.segment("REF", "NT") if event is not None else None
        if named is None:
            return response_body(tree, created=now, decision=self._review(case_id, request))
        decision = self._inquiry(named.get(2))
        if decision is None:
            return response_body(tree, created=now, rejection=UNKNOWN_REVIEW)
        return response_body(tree, created=now, decision=decision)

    def _benefits(self, tree: LoopNode, now: datetime) -> list[Segment]:
        """Coverage is active unless the member id starts with the inactive prefix; the
        service types asked about need authorization when the rules say so."""
        case_id, request = x279.read_270(tree)
        active = not request.coverage.member_id.startswith(self.eligibility.inactive_member_prefix)
        benefits = [
            Benefit(
                information="1" if active else "6",
                coverage_level="IND",
                service_type_codes=[code],
                authorization_required=(code in self.eligibility.auth_required) if active else None,
            )
            for code in request.service_type_codes
        ]
        result = EligibilityResult(case_id=case_id, coverage_active=active, benefits=benefits)
        return x279.benefits_body(case_id, request, result, created=now)

    def _claim_status(self, tree: LoopNode, now: datetime) -> list[Segment]:
        """Claims whose account number starts with the denied prefix are finalized as denied
        (F2, CARC 50); the others as paid in full (F1, 65)."""
        case_id, request = x212.read_276(tree)
        claim = request.claim
        denied = claim.patient_account_number.startswith(self.eligibility.denied_claim_prefix)
        status = (
            StatusCode(category="F2", code="50") if denied else StatusCode(category="F1", code="65")
        )
        found = ClaimStatus(
            patient_account_number=claim.patient_account_number,
            payer_claim_id=claim.payer_claim_id or f"PC{self._next_number():08d}",
            statuses=[status],
            total_charge=claim.total_charge,
            paid=Decimal(0) if denied else claim.total_charge,
            service_period=claim.service_period,
        )
        result = ClaimStatusResult(case_id=case_id, claims=[found])
        return x212.status_body(case_id, request, result, created=now)

    def _review(self, case_id: str, request: PriorAuthorizationRequest) -> Decision:
        submission = Submission(
            request_id=case_id,
            urgency=request.urgency.value.upper(),
            member_id=request.coverage.member_id,
            services=tuple(
                ServiceRequested(
                    line.sequence, line.procedure_code, line.units, line.service_period.start
                )
                for line in request.service_lines
            ),
        )
        rule = first_match(list(self.rules), submission)
        serial = self._next_number()
        reference, auth_number = f"CH{serial:08d}", f"X{serial:08d}"
        decision = decide(rule.decide, rule, submission, reference, auth_number)
        self._reviews[reference] = _Review(
            submission, rule, auth_number, decision, pended_at=time.monotonic()
        )
        return decision

    def _inquiry(self, reference: str) -> Decision | None:
        review = self._reviews.get(reference)
        if review is None:
            return None
        self._totals.inquiries += 1
        review.inquiries += 1
        pending = review.decision.outcome is DecisionOutcome.pended
        if pending and review.rule.is_due(review.pended_at, time.monotonic(), review.inquiries):
            review.decision = decide(
                review.rule.then, review.rule, review.submission, reference, review.auth_number
            )
        return review.decision


def _ta1(interchange: Interchange, note: str, number: int, now: datetime) -> bytes:
    try:
        return build_ta1(interchange, note, control_number=number, created=now).to_bytes()
    except X12Error:
        return b""


def _payload_id(key: str) -> str:
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return core.payload_id_for(key)
