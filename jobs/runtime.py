"""The gateway side of the job runtime: submit jobs, read them, and keep them moving.

Guarantees
- `submit` commits the row before starting the Ray task, so a job exists (and will run) even if
  this process dies right after; with an idempotency key, one key is one job.
- A job is dispatched by whoever reserves it in SQL first (see storage/jobs.py), so several
  gateways never start the same attempt twice.
- Retries survive the submitter: it schedules a failed attempt's retry itself (fast path), and
  every runner's background loop dispatches jobs that are due, never dispatched, or whose owner
  went quiet for `stale_after_s` (a dead gateway, a dead worker, a lost Ray task).
- Ray must already be connected in this process (gateway.kernel.resources.ray_ctx does it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import asyncpg
import ray

from domain.clock import SYSTEM_CLOCK, Clock
from domain.periodic import Periodic
from jobs.pooled import pooled, worker_handles
from jobs.worker import Report, RunPolicy, run_job
from storage import jobs as store
from storage.jobs import Job

if TYPE_CHECKING:
    from domain.settings import Settings

log = logging.getLogger(__name__)

# A sweep reserves at most this many jobs per statement, then goes again while batches come back
# full; small enough that one statement's row locks are brief.
SWEEP_BATCH = 100
# Beats per stale period: a job is presumed dead only after several missed beats, not one slow one.
BEATS_PER_STALE_PERIOD = 4
# wait() polls fast first (most test and AI jobs take well under a second), then backs off.
WAIT_POLL_FIRST_S = 0.02
WAIT_POLL_MAX_S = 0.5


class JobRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        *,
        stale_after_s: float = 300.0,
        sweep_interval_s: float = 30.0,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 300.0,
        default_max_attempts: int = 5,
        ray_max_retries: int = 3,
        task_num_cpus: float = 1.0,
        pooled_modules: Iterable[str] = (),
        worker_actors: int = 1,
        worker_concurrency: int = 48,
        namespace: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        # kinds of these modules run on the JobWorker actors (jobs/pooled.py), the rest as tasks
        self._pooled_modules = frozenset(pooled_modules)
        self._worker_spec = dict(actors=worker_actors, concurrency=worker_concurrency, max_task_retries=ray_max_retries)
        self._namespace = namespace
        self._workers: list[Any] | None = None
        self._next_worker = 0
        self._stale_after_s = stale_after_s
        self._default_max_attempts = default_max_attempts
        self._policy = RunPolicy(
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
            heartbeat_s=stale_after_s / BEATS_PER_STALE_PERIOD,
        )
        # Ray retries only system failures (the worker died); handler errors are ours to retry
        # with backoff and a record in the row.
        self._task = run_job.options(max_retries=ray_max_retries, retry_exceptions=False, num_cpus=task_num_cpus)
        self._background: set[asyncio.Task[Any]] = set()
        # (kind, outcome) -> dispatches this runner watched end that way, for /metrics: "retry"
        # is a failed attempt that will run again, "failed" one that will not (jobs/worker.py)
        self.outcomes: dict[tuple[str, str], int] = {}
        # The sweep is what rescues orphaned jobs; if it died on a database blip, jobs would
        # silently stop being retried, so a failed sweep is logged and the next interval retries.
        self._sweeper = Periodic("jobs-sweeper", self.sweep_once, sweep_interval_s, clock=clock, run_at_start=True)

    @classmethod
    def from_settings(cls, settings: Settings, pool: asyncpg.Pool, **overrides: Any) -> JobRunner:
        options: dict[str, Any] = dict(
            stale_after_s=settings.job_stale_after_s,
            sweep_interval_s=settings.job_sweep_interval_s,
            pooled_modules=settings.job_pooled_modules,
            worker_actors=settings.job_worker_actors,
            worker_concurrency=settings.job_worker_concurrency,
            namespace=settings.roost_ray_namespace,
        )
        options.update(overrides)
        if settings.database_url is None:
            raise ValueError("JobRunner needs a resolved DATABASE_URL: its Ray tasks connect with it")
        return cls(pool, settings.database_url, **options)

    # -- submitting and reading ---------------------------------------------------------------

    async def submit(
        self,
        kind: str,
        payload: Any,
        *,
        idempotency_key: str | None = None,
        max_attempts: int | None = None,
    ) -> int:
        """Queue a job and start it; returns its id. A repeated idempotency key returns the first
        job's id and starts nothing. The kind is not checked here: a worker that has no handler
        for it fails the job (so a gateway newer than its workers fails loudly, not silently)."""
        token = _new_token()
        async with self._pool.acquire() as conn:
            job_id, created = await store.insert(
                conn,
                kind,
                payload,
                max_attempts=self._default_max_attempts if max_attempts is None else max_attempts,
                idempotency_key=idempotency_key,
                token=token,
            )
        if created:
            await self._start(job_id, token, kind)
        return job_id

    @staticmethod
    def reservation() -> str:
        """A dispatch token for a job row the caller inserts itself, in a statement of its own
        that also writes what the job is for (storage.ai_requests.insert_queued); then
        `start_reserved`."""
        return _new_token()

    async def start_reserved(self, job_id: int, token: str, kind: str) -> None:
        """Start a committed job row whose first dispatch is reserved for `token`. If this
        process dies first, the sweep dispatches it once the reservation is stale."""
        await self._start(job_id, token, kind)

    async def get(self, job_id: int) -> Job | None:
        async with self._pool.acquire() as conn:
            return await store.get(conn, job_id)

    async def wait(self, job_id: int, timeout: float) -> Job:
        """Poll until the job is finished or failed. Raises TimeoutError, or LookupError if there
        is no such job. The job keeps running after a timeout."""
        delay = WAIT_POLL_FIRST_S
        async with asyncio.timeout(timeout):
            while True:
                job = await self.get(job_id)
                if job is None:
                    raise LookupError(f"no job {job_id}")
                if job.done:
                    return job
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, WAIT_POLL_MAX_S)

    # -- dispatching ------------------------------------------------------------------------

    async def dispatch(self, job_id: int) -> bool:
        """Start the job if it needs it (due and unowned, or its owner is stale). False if it is
        done, not yet due, or a live dispatch owns it: calling this is always safe."""
        token = _new_token()
        async with self._pool.acquire() as conn:
            kind = await store.reserve(conn, job_id, token, self._stale_after_s)
        if kind is not None:
            await self._start(job_id, token, kind)
        return kind is not None

    async def sweep_once(self) -> int:
        """Dispatch every job that is due or orphaned; returns how many were dispatched."""
        total = 0
        while True:
            async with self._pool.acquire() as conn:
                batch = await store.reserve_due(conn, self._stale_after_s, SWEEP_BATCH)
            for job_id, token, kind in batch:
                await self._start(job_id, token, kind)
            total += len(batch)
            if len(batch) < SWEEP_BATCH:
                break
        if total:
            log.info("job sweep dispatched", extra={"count": total})
        return total

    async def _worker(self) -> Any:
        """The next job worker, round robin (handles fetched once, off the loop)."""
        if self._workers is None:
            loop = asyncio.get_running_loop()
            self._workers = await loop.run_in_executor(
                None, functools.partial(worker_handles, self._dsn, self._namespace, **self._worker_spec)
            )
        worker = self._workers[self._next_worker % len(self._workers)]
        self._next_worker += 1
        return worker

    async def _start(self, job_id: int, token: str, kind: str) -> None:
        """Start a reserved dispatch (on a job worker for pooled kinds, else as its own Ray task)
        and watch it."""
        try:
            if pooled(kind, self._pooled_modules):
                ref = (await self._worker()).run.remote(job_id, token, self._policy)
            else:
                ref = self._task.remote(job_id, token, self._dsn, self._policy)
        except Exception:
            log.exception("job task could not be started", extra={"job_id": job_id})
            # Hand the job straight back to the sweep instead of waiting out the stale limit.
            async with self._pool.acquire() as conn:
                await store.release(conn, job_id, token)
            return
        self._spawn(self._watch(job_id, token, ref, kind))

    def _count(self, kind: str, outcome: str) -> None:
        key = (kind, outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    async def _watch(self, job_id: int, token: str, ref: ray.ObjectRef, kind: str) -> None:
        """The submitter's fast path: schedule a failed attempt's retry, and record a task that
        Ray gave up on, rather than leave both to the next sweep."""
        try:
            report: Report = await ref
        except ray.exceptions.RayError as exc:
            # Ray's own retries are used up (the worker kept dying) or the task raised before it
            # could record anything (database unreachable): count it as a failed attempt.
            log.warning("job task failed", exc_info=True, extra={"job_id": job_id})
            retry_in = self._policy.backoff(1)
            async with self._pool.acquire() as conn:
                status = await store.fail_attempt(
                    conn, job_id, token, f"the job's task failed: {type(exc).__name__}", retry_in
                )
            # None: another dispatch owns the row now, and its watcher counts what happens
            if status is not None:
                self._count(kind, "retry" if status == "pending" else "failed")
            if status != "pending":
                return
        else:
            self._count(kind, report["outcome"])
            if report["outcome"] != "retry" or report["retry_in_s"] is None:
                return
            retry_in = report["retry_in_s"]
        # a hair past run_after: our sleep starts after the database computed it
        await asyncio.sleep(retry_in + 0.01)
        await self.dispatch(job_id)

    # -- background loop --------------------------------------------------------------------

    def start(self) -> None:
        """Start the background loop: a sweep now (jobs a previous process left behind), then one
        every `sweep_interval_s`; and warm the job workers, so the first pooled job does not wait
        for an actor process to start (seconds)."""
        self._sweeper.start()
        if self._pooled_modules:
            self._spawn(self._warm_workers())

    async def _warm_workers(self) -> None:
        await self._worker()
        await asyncio.gather(*(w.ping.remote() for w in self._workers or ()))

    async def stop(self) -> None:
        """Stop the loop and this runner's watchers. Jobs themselves keep running in Ray; their
        rows carry on without this process."""
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(self._sweeper.stop(), *tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(coro))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _logged(coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            # A watcher is only a shortcut; the sweep covers whatever it failed to do.
            log.exception("job watcher failed")


def _new_token() -> str:
    return uuid.uuid4().hex
