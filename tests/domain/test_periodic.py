"""domain/periodic.py, without Ray or a database: the loop on a FakeClock."""

from __future__ import annotations

import asyncio
import logging

from domain.periodic import Periodic
from tests.clock import FakeClock
from tests.waiting import eventually


class Work:
    """Counts its runs, and the fake clock's monotonic time at each."""

    def __init__(self, clock: FakeClock, *, fail_on: tuple[int, ...] = ()) -> None:
        self.clock = clock
        self.at: list[float] = []
        self.fail_on = fail_on

    async def __call__(self) -> None:
        self.at.append(self.clock.monotonic())
        if len(self.at) in self.fail_on:
            raise RuntimeError(f"run {len(self.at)} failed on purpose")


async def asleep(clock: FakeClock) -> None:
    """Until the loop has finished its run and waits on the clock again."""
    await eventually(lambda: clock.sleepers == 1, what="the loop going back to sleep")


async def test_runs_every_interval_after_a_first_wait():
    clock = FakeClock()
    work = Work(clock)
    loop = Periodic("every-second", work, 1.0, clock=clock)
    loop.start()
    start = clock.monotonic()
    await asleep(clock)
    assert work.at == []
    clock.advance(0.5)
    await asleep(clock)
    assert work.at == []
    for _ in range(3):
        clock.advance(0.5)
        await asleep(clock)
        clock.advance(0.5)
        await asleep(clock)
    assert work.at == [start + 1.0, start + 2.0, start + 3.0]
    await loop.stop()
    assert not loop.running


async def test_run_at_start_runs_first_then_waits():
    clock = FakeClock()
    work = Work(clock)
    loop = Periodic("at-start", work, 10.0, clock=clock, run_at_start=True)
    loop.start()
    await asleep(clock)
    assert work.at == [clock.monotonic()]
    clock.advance(10)
    await eventually(lambda: len(work.at) == 2)
    await loop.stop()


async def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog):
    caplog.set_level(logging.ERROR, logger="domain.periodic")
    clock = FakeClock()
    work = Work(clock, fail_on=(1, 2))
    loop = Periodic("flaky", work, 1.0, clock=clock, run_at_start=True)
    loop.start()
    for _ in range(2):
        await asleep(clock)
        clock.advance(1)
    await eventually(lambda: len(work.at) == 3)
    assert loop.running
    failures = [r for r in caplog.records if r.name == "domain.periodic"]
    assert [(r.getMessage(), r.task, str(r.exc_info[1])) for r in failures] == [  # type: ignore[attr-defined]
        ("background task failed; it runs again after its interval", "flaky", "run 1 failed on purpose"),
        ("background task failed; it runs again after its interval", "flaky", "run 2 failed on purpose"),
    ]
    await loop.stop()


async def test_wake_ends_the_wait_early_and_once():
    clock = FakeClock()
    work = Work(clock)
    loop = Periodic("woken", work, 60.0, clock=clock)
    loop.start()
    await asleep(clock)
    loop.wake()
    await eventually(lambda: len(work.at) == 1)
    await asleep(clock)
    assert len(work.at) == 1  # the wake was used up: the loop waits its full interval again
    clock.advance(60)
    await eventually(lambda: len(work.at) == 2)
    await loop.stop()


async def test_a_wake_before_start_runs_at_once():
    clock = FakeClock()
    work = Work(clock)
    loop = Periodic("woken-early", work, 60.0, clock=clock)
    loop.wake()
    loop.start()
    await eventually(lambda: len(work.at) == 1)
    await loop.stop()


async def test_the_interval_may_change_between_runs():
    clock = FakeClock()
    work = Work(clock)
    waits = iter([1.0, 2.0, 4.0, 8.0])
    loop = Periodic("backoff", work, lambda: next(waits), clock=clock, run_at_start=True)
    start = clock.monotonic()
    loop.start()
    for _ in range(15):
        await asleep(clock)
        clock.advance(1)
    assert work.at == [start, start + 1, start + 3, start + 7]
    await loop.stop()


async def test_stop_cancels_a_run_in_progress():
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = Periodic("stuck", forever, 1.0, clock=FakeClock(), run_at_start=True)
    loop.start()
    await asyncio.sleep(0)
    await loop.stop()
    assert cancelled.is_set() and not loop.running


async def test_stop_gives_up_after_its_timeout_on_work_that_swallows_cancellation():
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                pass  # what a pub/sub read on a unix socket has been seen to do

    loop = Periodic("stubborn", stubborn, 1.0, clock=FakeClock(), run_at_start=True)
    loop.start()
    await asyncio.sleep(0)
    task = loop._task
    async with asyncio.timeout(2):
        await loop.stop(timeout=0.05)
    assert task is not None and not task.done()
    release.set()
    await eventually(task.done)


async def test_start_twice_is_one_loop_and_stop_before_start_is_nothing():
    clock = FakeClock()
    work = Work(clock)
    loop = Periodic("once", work, 1.0, clock=clock)
    await loop.stop()
    loop.start()
    first = loop._task
    loop.start()
    assert loop._task is first
    await asleep(clock)
    await loop.stop()
    loop.start()  # a stopped loop starts again
    await asleep(clock)
    clock.advance(1)
    await eventually(lambda: len(work.at) == 1)
    await loop.stop()


async def test_on_the_system_clock():
    runs = 0

    async def count() -> None:
        nonlocal runs
        runs += 1

    loop = Periodic("real-time", count, 0.01)
    loop.start()
    await eventually(lambda: runs >= 3, timeout=2)
    await loop.stop()
