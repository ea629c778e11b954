"""What the payer sandbox remembers: effects by idempotency key, open cases, queued faults.

The effect counts are the sandbox's point. A crash test kills the gateway mid-send, restarts
it and then asks here whether any case reached the payer twice: a repeat under the same
`Idempotency-Key` gets the stored answer and counts as a duplicate, not as a second effect;
the same case under a new key would show as a second effect for its `requestId`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from canonical.decisions import Decision, DecisionOutcome
from connectors.payer_rest.sandbox_rules import (
    Rule,
    Submission,
    SubmissionError,
    decide,
    first_match,
    read_submission,
)
from connectors.sandbox import Fault
from mappings.payer_rest import render_decision


@dataclass
class _Effect:
    body_digest: bytes
    answer: bytes
    duplicates: int = 0


@dataclass
class _Case:
    submission: Submission
    rule: Rule
    auth_number: str
    decision: Decision
    pended_at: float
    inquiries: int = 0


@dataclass
class _QueuedFault:
    fault: Fault
    remaining: int
    target: str
    retry_after: int


@dataclass
class Totals:
    requests: int = 0
    effects: int = 0
    duplicates: int = 0
    inquiries: int = 0
    by_request: dict[str, int] = field(default_factory=dict)


class IdempotencyConflict(Exception):
    """The key was used before with a different body (the IETF draft's 422)."""


class PayerLedger:
    """All sandbox state, behind one lock: the server thread and test threads both use it."""

    def __init__(self, rules: list[Rule]) -> None:
        self._rules = rules
        self._lock = threading.Lock()
        self._effects: dict[str, _Effect] = {}
        self._cases: dict[str, _Case] = {}
        self._faults: list[_QueuedFault] = []
        self._totals = Totals()
        self._serial = 0

    def reset(self) -> None:
        with self._lock:
            self._effects.clear()
            self._cases.clear()
            self._faults.clear()
            self._totals = Totals()

    def inject(self, fault: Fault, count: int, target: str = "api", retry_after: int = 1) -> None:
        with self._lock:
            self._faults.append(_QueuedFault(fault, count, target, retry_after))

    def take_fault(self, target: str) -> _QueuedFault | None:
        with self._lock:
            for queued in self._faults:
                if queued.target == target:
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._faults.remove(queued)
                    return queued
        return None

    def submit(self, key: str, body: bytes) -> bytes:
        """The answer to a submission: adjudicated once per key, replayed after that.

        Raises `SubmissionError` for a body the payer cannot read, `IdempotencyConflict` for a
        reused key with another body.
        """
        digest = hashlib.sha256(body).digest()
        with self._lock:
            self._totals.requests += 1
            known = self._effects.get(key)
            if known is not None:
                if known.body_digest != digest:
                    raise IdempotencyConflict
                known.duplicates += 1
                self._totals.duplicates += 1
                return known.answer
            submission = read_submission(_json(body))
            rule = first_match(self._rules, submission)
            self._serial += 1
            reference = f"PR{self._serial:08d}"
            auth_number = f"AUTH{self._serial:08d}"
            decision = decide(rule.decide, rule, submission, reference, auth_number)
            self._cases[reference] = _Case(
                submission, rule, auth_number, decision, pended_at=time.monotonic()
            )
            answer = _encode(decision, submission.request_id)
            self._effects[key] = _Effect(digest, answer)
            self._totals.effects += 1
            by_request = self._totals.by_request
            by_request[submission.request_id] = by_request.get(submission.request_id, 0) + 1
            return answer

    def inquire(self, reference: str) -> bytes | None:
        """The case's current answer, deciding a pended case whose time has come."""
        with self._lock:
            case = self._cases.get(reference)
            if case is None:
                return None
            self._totals.inquiries += 1
            case.inquiries += 1
            pending = case.decision.outcome is DecisionOutcome.pended
            if pending and case.rule.is_due(case.pended_at, time.monotonic(), case.inquiries):
                case.decision = decide(
                    case.rule.then, case.rule, case.submission, reference, case.auth_number
                )
            return _encode(case.decision, case.submission.request_id)

    def effects_of(self, key: str) -> dict[str, Any]:
        with self._lock:
            effect = self._effects.get(key)
            return {
                "key": key,
                "effects": 0 if effect is None else 1,
                "duplicates": 0 if effect is None else effect.duplicates,
            }

    def report(self, token_requests: int) -> dict[str, Any]:
        with self._lock:
            totals = self._totals
            return {
                "totals": {
                    "requests": totals.requests,
                    "effects": totals.effects,
                    "duplicates": totals.duplicates,
                    "inquiries": totals.inquiries,
                    "token_requests": token_requests,
                },
                "keys": {
                    key: {"effects": 1, "duplicates": e.duplicates}
                    for key, e in self._effects.items()
                },
                "requests": dict(totals.by_request),
            }


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SubmissionError("the body is not JSON") from None


def _encode(decision: Decision, request_id: str) -> bytes:
    return json.dumps(render_decision(decision, request_id=request_id)).encode()
