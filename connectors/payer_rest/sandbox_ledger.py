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
from dataclasses import asdict, dataclass, field
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
from connectors.sandbox_kit import EffectLog, FaultQueue
from mappings.payer_rest import render_decision


@dataclass
class _Case:
    submission: Submission
    rule: Rule
    auth_number: str
    decision: Decision
    pended_at: float
    inquiries: int = 0


@dataclass
class Totals:
    requests: int = 0
    effects: int = 0
    duplicates: int = 0
    inquiries: int = 0
    by_request: dict[str, int] = field(default_factory=dict)

    def report(self, token_requests: int, effects: EffectLog) -> dict[str, Any]:
        """What `GET /_sandbox/effects` answers: totals, per key and per request."""
        counts = {name: n for name, n in asdict(self).items() if name != "by_request"}
        return {
            "totals": counts | {"token_requests": token_requests},
            "keys": effects.by_key(),
            "requests": dict(self.by_request),
        }


class PayerLedger:
    """All sandbox state, behind one lock: the server thread and test threads both use it."""

    def __init__(self, rules: list[Rule]) -> None:
        self._rules = rules
        self._lock = threading.Lock()
        self._effects = EffectLog()
        self._cases: dict[str, _Case] = {}
        self.faults = FaultQueue()
        self._totals = Totals()
        self._serial = 0

    def reset(self) -> None:
        with self._lock:
            self._effects.clear()
            self._cases.clear()
            self._totals = Totals()
        self.faults.clear()

    def submit(self, key: str, body: bytes) -> bytes:
        """The answer to a submission: adjudicated once per key, replayed after that.

        Raises `SubmissionError` for a body the payer cannot read, `IdempotencyConflict` for a
        reused key with another body.
        """
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            self._totals.requests += 1
            known = self._effects.replay(key, digest)
            if known is not None:
                self._totals.duplicates += 1
                return known
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
            self._effects.record(key, digest, answer)
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
            return self._effects.of(key)

    def report(self, token_requests: int) -> dict[str, Any]:
        with self._lock:
            return self._totals.report(token_requests, self._effects)


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SubmissionError("the body is not JSON") from None


def _encode(decision: Decision, request_id: str) -> bytes:
    return json.dumps(render_decision(decision, request_id=request_id)).encode()
