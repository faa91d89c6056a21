"""One background loop, written once: run a coroutine every N seconds until stopped.

Every process-long loop of ours is one of these (runtime settings refresh, request log flush and
daily prune, token cache flush and invalidation listener, event feed presence flush, upload
sweeper, job sweeper), so start, stop, waiting and error handling live here and not seven times.

- `start()` begins the loop in a task of its own; `stop()` cancels it and waits for it (with a
  bound, for work that may swallow a cancellation).
- The wait between runs is the injected clock's `sleep` (domain/clock.py): a test advances a fake
  clock instead of sleeping. `every_s` may be a function, asked before each wait, for loops whose
  pause changes (the listener's reconnect backoff).
- `wake()` ends the current wait early (the request log flushes as soon as its buffer is full).
- A run that raises is logged and the loop goes on: see `_run_forever`.

Lives in `domain` because `domain` itself runs one (system_settings) and everything that runs the
others (jobs, the gateway) may import `domain`; it imports nothing of ours but the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from domain.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        every_s: float | Callable[[], float],
        *,
        clock: Clock = SYSTEM_CLOCK,
        run_at_start: bool = False,
    ) -> None:
        """`work` runs every `every_s` seconds, first after one wait (or at once when
        `run_at_start`). `name` names the task and the log lines of its failures."""
        self.name = name
        self._work = work
        self._every_s = every_s
        self._clock = clock
        self._run_at_start = run_at_start
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop (a no-op while it runs). Needs a running event loop."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run_forever(), name=self.name)

    def wake(self) -> None:
        """Run now rather than at the end of the current wait (safe before start and after stop)."""
        self._wake.set()

    async def stop(self, *, timeout: float | None = None) -> None:
        """Cancel the loop and wait for it to end; with `timeout`, wait at most that long and move
        on (work that swallowed the cancellation finishes its run, and the loop ends there)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task}, timeout=timeout)

    def _current(self) -> bool:
        # A stopped loop whose work swallowed the cancellation must still end (and not run on
        # beside a restarted one): it ends at the next turn that finds it is no longer the task.
        return self._task is not None and self._task is asyncio.current_task()

    async def _run_forever(self) -> None:
        if not self._run_at_start:
            await self._pause()
        while self._current():
            try:
                await self._work()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The loop must never die: each of these loops is the only thing that does its
                # work (a dead flush loses every later log row, a dead sweeper strands every later
                # orphaned job) and nothing would restart it. One failed run costs one interval;
                # the next run is the retry.
                log.exception("background task failed; it runs again after its interval", extra={"task": self.name})
            if self._current():
                await self._pause()

    async def _pause(self) -> None:
        every_s = self._every_s() if callable(self._every_s) else self._every_s
        if not self._wake.is_set():
            sleeper = asyncio.ensure_future(self._clock.sleep(every_s))
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()
        self._wake.clear()
