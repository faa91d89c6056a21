"""Pooled job kinds (jobs/pooled.py): many at once on the JobWorker actors, with the runtime's
guarantees. The same handlers as tasks are the control: a task holds a CPU, so at most
RAY_TEST_CPUS of them overlap."""

from __future__ import annotations

import asyncio

from jobs.pooled import pooled
from jobs.runtime import JobRunner
from tests.conftest import RAY_TEST_CPUS

from .conftest import MakeRunner

WAIT_S = 60.0
JOBS = 16


def _most_at_once(spans: list[dict]) -> int:
    edges = sorted([(s["start"], 1) for s in spans] + [(s["end"], -1) for s in spans])
    now = best = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


async def _spans(runner: JobRunner, sleep_s: float) -> list[dict]:
    ids = [await runner.submit("selftest.span", {"sleep_s": sleep_s}) for _ in range(JOBS)]
    jobs = await asyncio.gather(*(runner.wait(job_id, WAIT_S) for job_id in ids))
    assert [(j.status, j.attempts) for j in jobs] == [("finished", 1)] * JOBS
    return [j.result for j in jobs]


async def test_pooled_kinds_run_many_at_once_in_one_worker(make_runner: MakeRunner):
    runner = await make_runner(pooled_modules=("selftest",), worker_actors=1, worker_concurrency=32)
    spans = await _spans(runner, 3.0)
    assert len({s["pid"] for s in spans}) == 1  # one actor process ran them all
    assert _most_at_once(spans) > RAY_TEST_CPUS * 3


async def test_tasks_are_bounded_by_the_cpus(make_runner: MakeRunner):
    runner = await make_runner()
    spans = await _spans(runner, 0.3)
    assert _most_at_once(spans) <= RAY_TEST_CPUS


async def test_a_pooled_job_whose_worker_dies_is_retried_and_finishes_once(make_runner: MakeRunner):
    runner = await make_runner(pooled_modules=("selftest",), worker_actors=1)
    job_id = await runner.submit("selftest.die_once", {})
    job = await runner.wait(job_id, WAIT_S)
    # the actor died with the first attempt; Ray restarted it and retried the call there, which
    # reclaimed the row with the same token
    assert (job.status, job.attempts, job.error) == ("finished", 2, None)
    assert not await runner.dispatch(job_id)  # done: nothing runs again
    # the restarted worker goes on serving
    again = await runner.wait(await runner.submit("selftest.echo", {"n": 1}), WAIT_S)
    assert (again.status, again.result) == ("finished", {"n": 1})


async def test_failures_are_recorded_and_retried_as_for_tasks(make_runner: MakeRunner):
    runner = await make_runner(pooled_modules=("selftest",))
    job = await runner.wait(await runner.submit("selftest.fail_times", {"times": 2}), WAIT_S)
    assert (job.status, job.attempts, job.result) == ("finished", 3, {"attempt": 3})
    rejected = await runner.wait(await runner.submit("selftest.reject", {}), WAIT_S)
    assert (rejected.status, rejected.attempts) == ("failed", 1)


def test_a_kind_is_pooled_by_its_module():
    modules = frozenset({"ai", "mail"})
    assert pooled("ai.generate", modules) and pooled("mail.send", modules)
    assert not pooled("images.process", modules)
    assert not pooled("aim.generate", modules)  # the module, not a prefix of it
