"""What the gateway side of the actor layer counts, per actor kind, for /metrics.

Recorded on the hot path (every actor call, every lease refill), so it is plain arithmetic in the
event loop: a bucket index found by bisection and a few list or attribute increments, no lock and
no prometheus_client object. The gateway's kernel turns these numbers into Prometheus families
only when /metrics is scraped (gateway/kernel/layer_metrics.py), the pattern of its HTTP metrics.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

# ops per actor call: one op is an unshared call, the client's max_batch (256 by default) the cap
BATCH_BUCKETS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# seconds from sending a batch to its results: about a millisecond is the normal hop here
LATENCY_BUCKETS: tuple[float, ...] = (
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
)
# seconds a local snapshot had lived when a refresh replaced it: about the interval (1 s) when
# polls keep it warm, far more for an entity read again after a quiet spell
AGE_BUCKETS: tuple[float, ...] = (0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 900, 3600)


class Histogram:
    """Counts per bucket (the last one is +Inf) and the sum of what was observed."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, float]]:
        """(upper bound, observations at or below it) per bucket, as Prometheus wants them."""
        out: list[tuple[str, float]] = []
        total = 0
        for bound, n in zip((*map(_bound, self.bounds), "+Inf"), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class ActorMeters:
    """One actor kind's numbers, beside its ShardClient's `stats` (ops and calls)."""

    call_failures: int = 0  # calls that failed as a whole (actor dead, Ray unreachable)
    op_errors: int = 0  # ops the actor answered with an error
    batch: Histogram = field(default_factory=lambda: Histogram(BATCH_BUCKETS))
    latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))
    # quota leases (actors/leases.py) refilled from this kind's actors
    lease_refills: int = 0
    lease_refill_failures: int = 0
    lease_refill_latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))
    # local snapshots of this kind's state (actors/snapshots.py, the meal views)
    snapshot_refreshes: int = 0
    snapshot_age: Histogram = field(default_factory=lambda: Histogram(AGE_BUCKETS))

    def snapshot_replaced(self, age_s: float | None) -> None:
        """A refresh landed; `age_s` is how long the snapshot it replaced had lived (None: the
        key had none, so no reader was served old data)."""
        self.snapshot_refreshes += 1
        if age_s is not None:
            self.snapshot_age.observe(age_s)
