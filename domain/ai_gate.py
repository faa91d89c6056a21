"""The AI provider's gate: a concurrency cap and a circuit breaker, as plain state.

One `ProviderGate` lives in one named Ray actor per cluster (actors/ai_gate.py), so every Ray task
that calls the provider, on any node, shares the cap (AI_PROVIDER_CONCURRENCY) and the breaker's
view of the provider. This module has no Ray and no clock of its own: every call takes `now`, so
the tests drive it by hand.

Permits are leases. A task that dies holding one (its worker was killed mid-call) cannot give it
back, so a permit lapses `lease_s` after it was taken; the lease is longer than the provider
call's timeout, so a live call never loses its permit.

Breaker: closed -> open after `threshold` consecutive failed provider calls (connection refused,
timeout, 5xx); open answers "not now" for `cooldown_s` without touching the provider; then half
open: one probe call is let through, and its outcome closes or re-opens the breaker. A 429 is the
provider pacing us, not failing: it neither opens nor closes the breaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    # the call said nothing about the provider's health (a 429, a 4xx about our request, cancelled)
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class GateConfig:
    limit: int = 8
    lease_s: float = 120.0
    threshold: int = 5
    cooldown_s: float = 30.0


@dataclass(slots=True)
class ProviderGate:
    config: GateConfig = field(default_factory=GateConfig)
    # holder -> lease expiry
    permits: dict[str, float] = field(default_factory=dict)
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probe: str | None = None
    # figures for tests and operators
    peak: int = 0
    granted: int = 0

    def configure(self, config: GateConfig) -> None:
        """The newest settings win: a changed AI_PROVIDER_CONCURRENCY applies from its next task."""
        self.config = config

    # -- breaker ------------------------------------------------------------------------------

    def retry_after(self, now: float) -> float:
        """Seconds until the breaker lets a call through again; 0 when it would now."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.opened_at + self.config.cooldown_s - now)
        if self.state is BreakerState.HALF_OPEN and self.probe is not None:
            # the probe's answer is due within the provider timeout; ask again in a moment
            return 1.0
        return 0.0

    def _admit(self, holder: str, now: float) -> bool:
        """Whether the breaker lets `holder` call the provider now (it may become the probe)."""
        if self.state is BreakerState.OPEN:
            if now < self.opened_at + self.config.cooldown_s:
                return False
            self.state = BreakerState.HALF_OPEN
            self.probe = None
        if self.state is BreakerState.HALF_OPEN:
            if self.probe is not None and self.probe in self.permits:
                return False
            self.probe = holder
        return True

    def record(self, holder: str, outcome: Outcome, now: float) -> None:
        if outcome is Outcome.SUCCESS:
            self.state, self.failures, self.probe = BreakerState.CLOSED, 0, None
        elif outcome is Outcome.FAILURE:
            self.failures += 1
            if self.state is BreakerState.HALF_OPEN or self.failures >= self.config.threshold:
                self.state, self.opened_at, self.probe = BreakerState.OPEN, now, None
        elif self.probe == holder:
            self.probe = None  # a neutral probe proves nothing: the next caller probes

    def record_late_successes(self) -> None:
        """Successes a process reports in a batch, after the fact (jobs/ai_permits.py): they reset
        a closed breaker's failure count, as each would have, but never close an open or half-open
        breaker, which failures reported since may have opened."""
        if self.state is BreakerState.CLOSED:
            self.failures = 0

    # -- permits ------------------------------------------------------------------------------

    def expire(self, now: float) -> None:
        for holder in [h for h, until in self.permits.items() if until <= now]:
            del self.permits[holder]

    def next_expiry(self) -> float | None:
        return min(self.permits.values(), default=None)

    def try_enter(self, holder: str, now: float) -> tuple[str, float]:
        """("ok", 0) with a permit taken; ("open", retry_after) when the breaker refuses; ("full",
        0) when every permit is out (the caller waits for one to come back)."""
        self.expire(now)
        if holder in self.permits:  # a retried call of one holder: renew, not a second permit
            self.permits[holder] = now + self.config.lease_s
            return "ok", 0.0
        if self.state is not BreakerState.CLOSED and not self._admit(holder, now):
            return "open", self.retry_after(now)
        if len(self.permits) >= self.config.limit:
            if self.probe == holder:
                self.probe = None
            return "full", 0.0
        self.permits[holder] = now + self.config.lease_s
        self.granted += 1
        self.peak = max(self.peak, len(self.permits))
        return "ok", 0.0

    def leave(self, holder: str, outcome: Outcome, now: float) -> None:
        self.permits.pop(holder, None)
        self.record(holder, outcome, now)

    def snapshot(self, now: float) -> dict[str, object]:
        self.expire(now)
        return {
            "state": self.state.value,
            "failures": self.failures,
            "in_use": len(self.permits),
            "limit": self.config.limit,
            "peak": self.peak,
            "granted": self.granted,
            "retry_after_s": self.retry_after(now),
        }
