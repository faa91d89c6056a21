"""Prometheus families for the layers behind the HTTP ones: actors, leases, snapshots and jobs.

What the actor layer records on its hot paths is plain numbers (actors/metering.py, on each
ShardClient's `stats.meters`); the job runner counts the outcomes it watches (`JobRunner.outcomes`).
Both become families here only when /metrics is scraped, like the HTTP metrics in
gateway/kernel/metrics.py.

The job queue is PostgreSQL's to tell, since any gateway or worker may have queued what waits: one
grouped query over the unfinished rows (storage.jobs.queue_depths) before each exposition,
time-boxed by JOB_QUEUE_TIMEOUT_S and single-flight, so a slow database delays a scrape by at most
that much and never stacks queries. When the query fails or times out, the queue families are left
out (Prometheus then sees no fresh value rather than a stale one) and
`roost_job_queue_query_success` is 0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from actors.metering import Histogram
from gateway.kernel.keys import actors_key, jobs_key, pool_key
from storage import jobs as job_store
from storage.jobs import QueueRow

log = logging.getLogger(__name__)

# Prometheus' default scrape timeout is 10 s (the ServiceMonitor's is 10 s too): leave the rest of
# the exposition most of it
JOB_QUEUE_TIMEOUT_S = 2.0
# scrape waits a queue query may span before it is cancelled (and its connection released)
QUERY_BOUND = 3

Family = CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily


class LayerMetrics(Collector):
    def __init__(self) -> None:
        # the root app, once gateway/wiring.py binds it: the contexts put the clients, the job
        # runner and the pool on it after this collector exists
        self._app: Mapping[Any, Any] | None = None
        self._queue: list[QueueRow] | None = None
        self._query: asyncio.Task[list[QueueRow]] | None = None
        self.queue_timeout_s = JOB_QUEUE_TIMEOUT_S

    def bind(self, app: Mapping[Any, Any]) -> None:
        self._app = app

    async def before_scrape(self) -> None:
        """Read the job queue for the coming exposition (at most JOB_QUEUE_TIMEOUT_S)."""
        self._queue = None
        pool = self._app.get(pool_key) if self._app is not None else None
        if pool is None:
            return
        if self._query is None or self._query.done():
            # the query may outlast one scrape's wait (the next scrape takes its answer), not
            # QUERY_BOUND of them
            self._query = asyncio.ensure_future(self._read_queue(pool, self.queue_timeout_s * QUERY_BOUND))
            self._query.add_done_callback(_retrieve)
        try:
            # shield: a scrape that gives up leaves the query to finish for the next scrape
            self._queue = await asyncio.wait_for(asyncio.shield(self._query), self.queue_timeout_s)
        except Exception as exc:  # TimeoutError, or the database's own error
            log.warning("job queue not read for /metrics", extra={"error": repr(exc)})

    @staticmethod
    async def _read_queue(pool: Any, timeout_s: float) -> list[QueueRow]:
        # bounded on its own too: a query nobody waits for any more must not hold a connection
        async with pool.acquire(timeout=timeout_s) as conn:
            return await job_store.queue_depths(conn, timeout_s)

    def collect(self) -> Iterator[Family]:
        app = self._app or {}
        clients = app.get(actors_key) or {}
        yield from _actor_families(clients)
        runner = app.get(jobs_key)
        if runner is not None:
            yield from _outcome_families(runner.outcomes)
        yield from self._queue_families()

    def _queue_families(self) -> Iterator[Family]:
        ok = GaugeMetricFamily(
            "roost_job_queue_query_success", "1 when this scrape read the job queue from PostgreSQL in time"
        )
        ok.add_metric([], 0 if self._queue is None else 1)
        yield ok
        if self._queue is None:
            return
        labels = ("kind", "state")
        depth = GaugeMetricFamily(
            "roost_job_queue_depth", "Unfinished jobs by kind and state (pending, retry, running)", labels=labels
        )
        oldest = GaugeMetricFamily(
            "roost_job_queue_oldest_seconds",
            "pending and retry: how long the longest-due job has been due; running: how long the "
            "longest-running job has run since its first attempt started",
            labels=labels,
        )
        for row in self._queue:
            depth.add_metric([row.kind, row.state], row.depth)
            oldest.add_metric([row.kind, row.state], row.oldest_s)
        yield depth
        yield oldest


def _histogram(name: str, doc: str) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, doc, labels=("kind",))


def _add(family: HistogramMetricFamily, kind: str, hist: Histogram) -> None:
    family.add_metric([kind], hist.cumulative(), hist.sum)


def _actor_families(clients: Mapping[str, Any]) -> Iterator[Family]:
    def counter(name: str, doc: str) -> CounterMetricFamily:
        return CounterMetricFamily(name, doc, labels=("kind",))

    ops = counter("roost_actor_ops", "Ops sent to shard actors (one per caller)")
    calls = counter("roost_actor_calls", "Actor calls made (batches of ops)")
    failures = counter("roost_actor_call_failures", "Actor calls that failed as a whole (actor dead, Ray unreachable)")
    op_errors = counter("roost_actor_op_errors", "Ops a shard actor answered with an error")
    batch = _histogram("roost_actor_batch_size", "Ops per actor call")
    latency = _histogram("roost_actor_call_duration_seconds", "Time from sending a batch to its results")
    refills = counter("roost_lease_refills", "Lease refills answered (quota leases)")
    refill_failures = counter("roost_lease_refill_failures", "Lease refills that failed")
    refill_latency = _histogram("roost_lease_refill_duration_seconds", "Time a lease refill took")
    refreshes = counter("roost_snapshot_refreshes", "Local snapshots (event feeds, meal views) refreshed")
    age = _histogram(
        "roost_snapshot_age_at_refresh_seconds",
        "How old a local snapshot had become when a refresh replaced it: the oldest data its "
        "readers can have been served (an actor outage keeps serving the last snapshot and shows "
        "in roost_actor_call_failures_total instead)",
    )
    for kind, client in sorted(clients.items()):
        stats, meters = client.stats, client.stats.meters
        ops.add_metric([kind], stats.ops)
        calls.add_metric([kind], stats.actor_calls)
        failures.add_metric([kind], meters.call_failures)
        op_errors.add_metric([kind], meters.op_errors)
        _add(batch, kind, meters.batch)
        _add(latency, kind, meters.latency)
        refills.add_metric([kind], meters.lease_refills)
        refill_failures.add_metric([kind], meters.lease_refill_failures)
        _add(refill_latency, kind, meters.lease_refill_latency)
        refreshes.add_metric([kind], meters.snapshot_refreshes)
        _add(age, kind, meters.snapshot_age)
    yield from (ops, calls, failures, op_errors, batch, latency, refills, refill_failures, refill_latency)
    yield from (refreshes, age)


def _outcome_families(outcomes: Mapping[tuple[str, str], int]) -> Iterator[Family]:
    by_outcome = CounterMetricFamily(
        "roost_job_outcomes",
        "Job dispatches this gateway watched, by kind and how they ended (finished, retry, failed, "
        "skipped, lost)",
        labels=("kind", "outcome"),
    )
    retries = CounterMetricFamily(
        "roost_job_retries", "Failed job attempts that will run again, by kind", labels=("kind",)
    )
    retried: dict[str, int] = {}
    for (kind, outcome), n in sorted(dict(outcomes).items()):
        by_outcome.add_metric([kind, outcome], n)
        retried.setdefault(kind, 0)
        if outcome == "retry":
            retried[kind] += n
    for kind, n in retried.items():
        retries.add_metric([kind], n)
    yield by_outcome
    yield retries


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
