"""JobWorker: an async Ray actor that runs many jobs of I/O-bound kinds at once.

A job normally runs as its own Ray task (jobs/worker.py `run_job`): a process per running job,
which isolates CPU-bound work (image pipelines) and a worker that dies takes one job with it. But
a task holds a CPU for its whole run, so a two-CPU cluster has two jobs in flight, and each task
opens and closes its own PostgreSQL connection. An AI generation spends ~all of its time waiting
for the provider: with tasks, `AI_PROVIDER_CONCURRENCY=32` could never be reached.

The kinds of the modules in JOB_POOLED_MODULES (default `ai`) run here instead: JOB_WORKER_ACTORS
named actors per Ray namespace (shared by every gateway, detached so they outlive whichever
gateway created them), each running up to JOB_WORKER_CONCURRENCY jobs on one event loop with one
connection pool. The guarantees are `execute`'s, unchanged: the claim token, conditional writes,
the heartbeat. A worker that dies is restarted by Ray and the calls it had in flight are retried
on the new one (`max_task_retries`), which reclaims their rows with the same tokens, as a retried
task does; past that, the dispatcher records the failed attempt and the sweeper re-dispatches.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp
import ray
from ray.actor import ActorClass

from jobs.worker import Connections, Report, RunPolicy, execute
from storage.pool import create_pool

WORKER_NAME = "job-worker-{}"


@ray.remote
class JobWorker:
    def __init__(self, dsn: str, concurrency: int) -> None:
        self._dsn = dsn
        # a connection per job in flight (its handler holds it for the whole run) and the
        # heartbeats' few: more would only queue at PostgreSQL
        self._pool_size = concurrency + 2
        self._connections: Connections | None = None
        self._starting = asyncio.Lock()

    async def _ready(self) -> Connections:
        if self._connections is None:
            async with self._starting:
                if self._connections is None:
                    pool = await create_pool(self._dsn, min_size=1, max_size=self._pool_size)
                    # one HTTP session for every job here: a provider call reuses a kept-alive
                    # connection instead of a TCP (and TLS) handshake per generation (py-spy:
                    # a tenth of this actor's time went to connecting, under ai_pool)
                    self._connections = Connections(self._dsn, pool, aiohttp.ClientSession())
        return self._connections

    async def run(self, job_id: int, token: str, policy: RunPolicy) -> Report:
        return await execute(job_id, token, self._dsn, policy, await self._ready())

    async def ping(self) -> bool:
        return True


# What @ray.remote made of the class: mypy does not apply class decorators
JOB_WORKER = cast(ActorClass[JobWorker], JobWorker)


def worker_handles(
    dsn: str, namespace: str | None, *, actors: int, concurrency: int, max_task_retries: int
) -> list[Any]:
    """The job workers of this namespace, created on first use. Blocking (it may talk to the GCS):
    call it off the event loop."""
    return [
        JOB_WORKER.options(
            name=WORKER_NAME.format(i),
            namespace=namespace,
            get_if_exists=True,
            lifetime="detached",
            max_concurrency=concurrency,
            max_restarts=-1,
            max_task_retries=max_task_retries,
            # waiting is what they do: they need no CPU reserved, and must not take one a task needs
            num_cpus=0,
        ).remote(dsn, concurrency)
        for i in range(actors)
    ]


def pooled(kind: str, modules: frozenset[str]) -> bool:
    """Whether jobs of `kind` (`<module>.<name>`) run on the job workers."""
    return kind.partition(".")[0] in modules
