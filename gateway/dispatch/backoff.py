"""When a failed send is tried again: exponential backoff with jitter, honoring Retry-After.

Jitter spreads a burst of failures (a payer outage hits every job at once) so the retries do not
all land on the recovering payer in the same second.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from gateway.settings import RetryPolicy


def next_attempt_at(
    policy: RetryPolicy,
    attempts: int,
    now: datetime,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    delay = min(
        policy.max_backoff_seconds,
        policy.initial_backoff_seconds * policy.multiplier ** max(0, attempts - 1),
    )
    delay *= 1 + rng.uniform(-policy.jitter, policy.jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def exhausted(policy: RetryPolicy, attempts: int) -> bool:
    return attempts >= policy.max_attempts
