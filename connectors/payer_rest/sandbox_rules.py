"""How the payer sandbox decides: ordered rules over the submission, first match wins.

Rules are data (a YAML or JSON list) so a demo or a test can script a payer's behaviour -
deny this procedure, pend that member's requests and approve them after two inquiries -
without code. A submission no rule matches is approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from canonical.base import Period
from canonical.decisions import Decision, DecisionOutcome, ItemDecision, ReviewAction

Verdict = Literal["approve", "deny", "partial", "more_info"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    procedure_code: str | None = None
    member_id_prefix: str | None = None
    urgency: Literal["standard", "expedited"] | None = None
    decide: Verdict | Literal["pend"] = "approve"
    then: Verdict = Field(default="approve", description="What a pended request becomes.")
    decide_after_seconds: float | None = Field(default=None, ge=0)
    decide_after_inquiries: int | None = Field(default=None, ge=1)
    reason_code: str | None = Field(default=None, max_length=20)
    reason_text: str | None = Field(default=None, max_length=1000)
    approved_units: Decimal | None = Field(default=None, ge=0)
    valid_days: int = Field(default=90, ge=1, le=3660)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        final = self.then if self.decide == "pend" else self.decide
        if final in ("deny", "more_info") and self.reason_code is None:
            raise ValueError(f"a rule that ends in {final} needs reason_code")
        if final == "partial" and self.approved_units is None:
            raise ValueError("a rule that ends in partial needs approved_units")
        return self

    def matches(self, submission: Submission) -> bool:
        if self.urgency is not None and submission.urgency != self.urgency.upper():
            return False
        if self.member_id_prefix is not None and not submission.member_id.startswith(
            self.member_id_prefix
        ):
            return False
        return self.procedure_code is None or any(
            line.procedure_code == self.procedure_code for line in submission.services
        )

    def is_due(self, pended_at: float, now: float, inquiries: int) -> bool:
        """Whether a request this rule pended is decided by now; by default at first inquiry."""
        if self.decide_after_seconds is not None and now - pended_at >= self.decide_after_seconds:
            return True
        if self.decide_after_inquiries is not None:
            return inquiries >= self.decide_after_inquiries
        return self.decide_after_seconds is None and inquiries >= 1


DEFAULT_RULE = Rule()


@dataclass(frozen=True)
class ServiceRequested:
    sequence: int
    procedure_code: str
    quantity: Decimal
    start: date


@dataclass(frozen=True)
class Submission:
    """The few fields of a submission the rules look at."""

    request_id: str
    urgency: str
    member_id: str
    services: tuple[ServiceRequested, ...]


class SubmissionError(ValueError):
    """The submission lacks what the payer needs; the sandbox answers 400."""


def read_submission(body: object) -> Submission:
    if not isinstance(body, dict):
        raise SubmissionError("the body must be a JSON object")
    member = body.get("member")
    services = body.get("services")
    request_id, urgency = body.get("requestId"), body.get("urgency")
    member_id = member.get("memberId") if isinstance(member, dict) else None
    if not isinstance(request_id, str) or not request_id:
        raise SubmissionError("requestId is required")
    if urgency not in ("STANDARD", "EXPEDITED"):
        raise SubmissionError("urgency must be STANDARD or EXPEDITED")
    if not isinstance(member_id, str) or not member_id:
        raise SubmissionError("member.memberId is required")
    if not isinstance(services, list) or not services or len(services) > 50:
        raise SubmissionError("services must list 1 to 50 services")
    return Submission(request_id, urgency, member_id, tuple(_service(s) for s in services))


def _service(raw: Any) -> ServiceRequested:
    try:
        sequence, code = raw["sequence"], raw["procedureCode"]
        quantity = Decimal(raw["quantity"])
        start = date.fromisoformat(raw["fromDate"])
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise SubmissionError(
            "each service needs sequence, procedureCode, quantity and fromDate"
        ) from None
    if not isinstance(sequence, int) or not isinstance(code, str) or not quantity.is_finite():
        raise SubmissionError("a service has a malformed sequence, procedureCode or quantity")
    return ServiceRequested(sequence, code, quantity, start)


def first_match(rules: list[Rule], submission: Submission) -> Rule:
    return next((rule for rule in rules if rule.matches(submission)), DEFAULT_RULE)


def decide(
    verdict: Verdict | Literal["pend"],
    rule: Rule,
    submission: Submission,
    reference: str,
    auth_number: str,
) -> Decision:
    now = datetime.now(UTC).replace(microsecond=0)
    common: dict[str, Any] = {"payer_reference": reference, "decided_at": now}
    if verdict == "pend":
        items = [_item(s, ReviewAction.pended) for s in submission.services]
        return Decision(outcome=DecisionOutcome.pended, items=items, **common)
    if verdict in ("deny", "more_info"):
        common |= {"reason_code": rule.reason_code, "reason_text": rule.reason_text}
    if verdict == "deny":
        items = [
            _item(s, ReviewAction.not_certified, rule.reason_code) for s in submission.services
        ]
        return Decision(outcome=DecisionOutcome.denied, items=items, **common)
    if verdict == "more_info":
        return Decision(outcome=DecisionOutcome.more_info_requested, **common)
    start = min(s.start for s in submission.services)
    common |= {
        "auth_number": auth_number,
        "authorized_period": Period(start=start, end=start + timedelta(days=rule.valid_days - 1)),
    }
    if verdict == "approve":
        items = [_item(s, ReviewAction.certified) for s in submission.services]
        return Decision(outcome=DecisionOutcome.approved, items=items, **common)
    items = [_partial_item(s, rule) for s in submission.services]
    return Decision(
        outcome=DecisionOutcome.partially_approved,
        items=items,
        reason_code=rule.reason_code,
        **common,
    )


def _item(
    service: ServiceRequested, action: ReviewAction, reason_code: str | None = None
) -> ItemDecision:
    units = service.quantity if action is ReviewAction.certified else None
    return ItemDecision(
        sequence=service.sequence, action=action, authorized_units=units, reason_code=reason_code
    )


def _partial_item(service: ServiceRequested, rule: Rule) -> ItemDecision:
    """Lines the rule names (every line, if it names no procedure) are cut to approved_units."""
    assert rule.approved_units is not None
    named = rule.procedure_code is None or service.procedure_code == rule.procedure_code
    if not named or service.quantity <= rule.approved_units:
        return _item(service, ReviewAction.certified)
    return ItemDecision(
        sequence=service.sequence,
        action=ReviewAction.modified,
        authorized_units=rule.approved_units,
        reason_code=rule.reason_code,
    )
