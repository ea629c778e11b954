"""What the PAS sandbox payer remembers: effects by idempotency key, requests, subscriptions,
queued faults and the notifications it sent.

Adjudication reuses the payer_rest sandbox's rules (approve, deny with a reason, partial, ask
for more information, pend and decide after N seconds or N inquiries), read off the canonical
request the PAS bundle maps to, so one rule file scripts both fake payers. Decisions are then
restated the way PAS states them: per item, by review action code.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from canonical.cases import PriorAuthorizationRequest
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction
from canonical.eligibility import Benefit, EligibilityResult
from connectors.payer_rest.sandbox_ledger import Totals
from connectors.payer_rest.sandbox_rules import (
    Rule,
    ServiceRequested,
    Submission,
    decide,
    first_match,
)
from connectors.sandbox_kit import EffectLog, FaultQueue
from mappings.fhir_pas import (
    PasMappingError,
    outcome_of,
    read_request_bundle,
    render_response_bundle,
)
from mappings.fhir_pas.eligibility import (
    X12_SERVICE_TYPE,
    eligibility_member_id,
    render_eligibility_response,
)
from mappings.fhir_pas.subscriptions import build_notification

INACTIVE_MEMBER_PREFIX = "INACTIVE"
AUTH_REQUIRED_SERVICE_TYPES = frozenset({"2", "42", "73"})  # surgical, home health, DME
_NOT_A_REASON = frozenset({ReviewAction.certified, ReviewAction.no_action_required})


@dataclass
class PasCase:
    case_id: str
    request: PriorAuthorizationRequest
    submission: Submission
    rule: Rule
    auth_number: str
    decision: Decision
    pended_at: float
    inquiries: int = 0

    def answer(self) -> dict[str, Any]:
        return render_response_bundle(
            self.decision,
            case_id=self.case_id,
            request=self.request,
            created=datetime.now(UTC).replace(microsecond=0),
        )


@dataclass
class Subscription:
    id: str
    endpoint: str
    headers: dict[str, str]
    events: int = 0


@dataclass
class PasTotals(Totals):
    cancellations: int = 0
    notifications_sent: int = 0
    notifications_dropped: int = 0


@dataclass(frozen=True)
class Notification:
    """One rest-hook delivery: where it goes, with which headers, and the exact bytes."""

    subscription_id: str
    endpoint: str
    headers: dict[str, str]
    body: bytes


class SubmissionRefused(ValueError):
    """The request is not one the payer can read; `outcome` is the OperationOutcome to send."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("refused")
        self.outcome = outcome


class PasPayer:
    """All sandbox state, behind one lock: the server thread and test threads both use it."""

    def __init__(self, rules: list[Rule], base_url: str = "") -> None:
        self._rules = rules
        self.base_url = base_url
        self._lock = threading.Lock()
        self._effects = EffectLog()
        self._cases: dict[str, PasCase] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self.faults = FaultQueue()
        self._sent: list[Notification] = []
        self._totals = PasTotals()
        self._serial = 0
        self.drop_notifications = False

    # -- control --------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._effects.clear()
            self._cases.clear()
            self._sent.clear()
            self._totals = PasTotals()
            self.drop_notifications = False
        self.faults.clear()

    # -- the payer's operations -------------------------------------------------------------

    def submit(self, key: str, document: object) -> tuple[bytes, PasCase | None]:
        """The answer to `$submit`, adjudicated once per key, and the case when newly pended.

        Raises `SubmissionRefused` for a bundle the payer cannot read and `IdempotencyConflict`
        for a reused key with another request.
        """
        fingerprint = _fingerprint(document)
        with self._lock:
            self._totals.requests += 1
            known = self._effects.replay(key, fingerprint)
            if known is not None:
                self._totals.duplicates += 1
                return known, None
        case_id, request = _read(document)
        if _cancels(document):
            return self._cancel(key, fingerprint, case_id), None
        with self._lock:
            self._serial += 1
            reference = f"PAS{self._serial:08d}"
            submission = _submission(case_id, request)
            rule = first_match(self._rules, submission)
            auth_number = f"AUTH{self._serial:08d}"
            decision = _pas_decision(
                decide(rule.decide, rule, submission, reference, auth_number), rule, submission
            )
            case = PasCase(
                case_id, request, submission, rule, auth_number, decision, time.monotonic()
            )
            self._cases[case_id] = case
            answer = json.dumps(case.answer()).encode()
            self._effects.record(key, fingerprint, answer)
            self._totals.effects += 1
            self._totals.by_request[case_id] = self._totals.by_request.get(case_id, 0) + 1
        pended = decision.outcome is DecisionOutcome.pended
        return answer, case if pended and rule.decide_after_seconds is not None else None

    def _cancel(self, key: str, fingerprint: str, case_id: str) -> bytes:
        """Withdraw a request the payer holds: every item is answered cancelled (review action
        C), and a pend still running is never decided."""
        with self._lock:
            case = self._cases.get(case_id)
            if case is None:
                raise SubmissionRefused(_no_prior_claim())
            items = [
                ItemDecision(sequence=s.sequence, action=ReviewAction.cancelled)
                for s in case.submission.services
            ]
            case.decision = Decision(
                outcome=DecisionOutcome.cancelled,
                payer_reference=case.decision.payer_reference,
                items=items,
                decided_at=datetime.now(UTC).replace(microsecond=0),
            )
            answer = json.dumps(case.answer()).encode()
            self._effects.record(key, fingerprint, answer)
            self._totals.effects += 1
            self._totals.cancellations += 1
            return answer

    def inquire(self, document: object) -> tuple[bytes, PasCase | None]:
        """The inquiry's `Parameters` and, when this inquiry decided the case, the case."""
        case_id, _ = _read(document)
        decided: PasCase | None = None
        with self._lock:
            self._totals.inquiries += 1
            case = self._cases.get(case_id or "")
            found: list[dict[str, Any]] = []
            if case is not None:
                case.inquiries += 1
                if self._due(case, by_inquiry=True):
                    decided = case
                found.append({"name": "return", "resource": case.answer()})
        answer = {"resourceType": "Parameters", "parameter": found}
        return json.dumps(answer).encode(), decided

    def decide_if_due(self, case_id: str) -> PasCase | None:
        """Decide a pended case whose time has come; the case when it was decided now."""
        with self._lock:
            case = self._cases.get(case_id)
            return case if case is not None and self._due(case, by_inquiry=False) else None

    def check_eligibility(self, key: str, document: object) -> bytes:
        member_id = eligibility_member_id(document)
        assert isinstance(document, dict)
        with self._lock:
            self._totals.requests += 1
            known = self._effects.replay(key, None)
            if known is not None:
                self._totals.duplicates += 1
                return known
            self._serial += 1
            answer = render_eligibility_response(
                document,
                _coverage(document, active=not member_id.startswith(INACTIVE_MEMBER_PREFIX)),
                reference=f"ELG{self._serial:08d}",
                created=datetime.now(UTC).replace(microsecond=0),
            )
            encoded = json.dumps(answer).encode()
            self._effects.record(key, _fingerprint(document), encoded)
            self._totals.effects += 1
            return encoded

    def subscribe(self, endpoint: str, headers: dict[str, str]) -> Subscription:
        with self._lock:
            subscription = Subscription(uuid.uuid4().hex[:16], endpoint, headers)
            self._subscriptions[subscription.id] = subscription
            return subscription

    def notifications_for(self, case: PasCase) -> list[Notification]:
        """One notification per active subscription, carrying the case's full response."""
        response = case.answer()
        now = datetime.now(UTC).isoformat()
        notes: list[Notification] = []
        with self._lock:
            for subscription in self._subscriptions.values():
                subscription.events += 1
                url = f"{self.base_url}/Subscription/{subscription.id}"
                notice = build_notification(url, subscription.events, response, now)
                body = json.dumps(notice).encode()
                note = Notification(
                    subscription.id, subscription.endpoint, subscription.headers, body
                )
                if self.drop_notifications:
                    self._totals.notifications_dropped += 1
                    continue
                self._totals.notifications_sent += 1
                self._sent.append(note)
                notes.append(note)
        return notes

    # -- what tests read ----------------------------------------------------------------

    def sent(self) -> list[Notification]:
        with self._lock:
            return list(self._sent)

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subscriptions.values())

    def effects_of(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self._effects.of(key)

    def report(self, token_requests: int) -> dict[str, Any]:
        with self._lock:
            return self._totals.report(token_requests, self._effects)

    def _due(self, case: PasCase, *, by_inquiry: bool) -> bool:
        """Decide `case` now if it is pended and due (the lock is held)."""
        if case.decision.outcome is not DecisionOutcome.pended:
            return False
        inquiries = case.inquiries if by_inquiry else 0
        if not case.rule.is_due(case.pended_at, time.monotonic(), inquiries):
            return False
        reference = case.decision.payer_reference or case.case_id
        verdict = decide(case.rule.then, case.rule, case.submission, reference, case.auth_number)
        case.decision = _pas_decision(verdict, case.rule, case.submission)
        return True


def _read(document: object) -> tuple[str, PriorAuthorizationRequest]:
    try:
        case_id, request = read_request_bundle(document)
    except PasMappingError as exc:
        raise SubmissionRefused(exc.operation_outcome()) from None
    if case_id is None:
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "required",
                    "diagnostics": "the Claim needs an identifier the payer can answer by",
                    "expression": ["Bundle.entry[0].resource.identifier"],
                }
            ],
        }
        raise SubmissionRefused(outcome)
    return case_id, request


def _coverage(request: dict[str, Any], *, active: bool) -> EligibilityResult:
    """Coverage in force or not; while in force, the service types asked about need prior
    authorization when they are among `AUTH_REQUIRED_SERVICE_TYPES`."""
    asked = [
        coding.get("code")
        for item in request.get("item") or []
        for coding in (item.get("category") or {}).get("coding") or []
        if coding.get("system") == X12_SERVICE_TYPE and coding.get("code")
    ]
    benefits = [
        Benefit(
            information="1" if active else "6",
            service_type_codes=[code],
            authorization_required=(code in AUTH_REQUIRED_SERVICE_TYPES) if active else None,
        )
        for code in asked
    ]
    return EligibilityResult(coverage_active=active, benefits=benefits)


def _cancels(document: object) -> bool:
    """Whether a (read) request bundle is a Claim Update that cancels the prior Claim."""
    assert isinstance(document, dict)
    return bool(document["entry"][0]["resource"].get("status") == "cancelled")


def _no_prior_claim() -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "not-found",
                "diagnostics": "the payer holds no prior authorization request to cancel",
                "expression": ["Bundle.entry[0].resource.identifier"],
            }
        ],
    }


def _fingerprint(document: object) -> str:
    """The request without its stamps: a resend is rebuilt, so only those bytes may differ."""
    if not isinstance(document, dict):
        return hashlib.sha256(repr(document).encode()).hexdigest()
    stripped = {k: v for k, v in document.items() if k not in ("timestamp", "created")}
    entries = stripped.get("entry")
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        first = dict(entries[0])
        if isinstance(first.get("resource"), dict):
            first["resource"] = {k: v for k, v in first["resource"].items() if k != "created"}
        stripped["entry"] = [first, *entries[1:]]
    canonical = json.dumps(stripped, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _submission(case_id: str, request: PriorAuthorizationRequest) -> Submission:
    services = tuple(
        ServiceRequested(line.sequence, line.procedure_code, line.units, line.service_period.start)
        for line in request.service_lines
    )
    return Submission(case_id, request.urgency.upper(), request.coverage.member_id, services)


def _pas_decision(decision: Decision, rule: Rule, submission: Submission) -> Decision:
    """`decision` restated per item, as PAS carries it: a request for more information is a
    contact-payer code on each item, and the case reason is its first open item's."""
    items = decision.items
    if decision.outcome is DecisionOutcome.more_info_requested:
        items = [
            ItemDecision(
                sequence=s.sequence, action=ReviewAction.contact_payer, reason_code=rule.reason_code
            )
            for s in submission.services
        ]
    reason = next(
        (i.reason_code for i in items if i.action not in _NOT_A_REASON and i.reason_code), None
    )
    return decision.model_copy(
        update={
            "items": items,
            "outcome": outcome_of([i.action for i in items]),
            "reason_code": reason,
        }
    )
