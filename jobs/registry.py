"""The handler API: job kinds, their handlers, and what a handler is given.

A kind is named `<module>.<name>` and its handler lives in `jobs/<module>.py`, registered with
`@job("<module>.<name>")`. A Ray worker imports that module the first time it meets the kind, so
handler modules need no central list and a worker never runs code it was not asked for.

A handler is `async def handler(payload, ctx: JobContext) -> result`:
- `payload` is the JSON value given to `JobRunner.submit`;
- the result must be JSON-serialisable; it is stored in the row;
- raising fails the attempt: it is retried with backoff while attempts remain, except for
  `PermanentJobError`, which fails the job at once (retrying would give the same answer);
- it may run more than once for one job (a worker can die after the work but before the row
  records it), so its side effects must be idempotent: key them on `ctx.job_id`;
- CPU-bound work belongs in `asyncio.to_thread` (or a process) so the event loop stays free for
  the heartbeat that tells the sweeper the job is alive.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

_KIND = re.compile(r"^([a-z][a-z0-9_]*)\.[a-z][a-z0-9_.]*$")


@dataclass(frozen=True, slots=True)
class JobContext:
    job_id: int
    kind: str
    # 1-based; the attempt that a dying worker started counts too
    attempt: int
    max_attempts: int
    # The task's own connection (JSON codecs registered), free for the handler while it runs.
    conn: asyncpg.Connection
    # A JobWorker's HTTP session, shared by the jobs it runs (kept-alive connections to a
    # provider); None in a task of its own, whose handler opens one for its run.
    http: aiohttp.ClientSession | None = None

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


# an async function: the worker runs it as a task beside its heartbeat
Handler = Callable[[Any, JobContext], Coroutine[Any, Any, Any]]


class PermanentJobError(Exception):
    """Raise from a handler to fail the job without retrying (bad payload, gone entity...)."""


class UnknownJobKind(PermanentJobError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown job kind {kind!r}: no handler is registered for it")
        self.kind = kind


_handlers: dict[str, Handler] = {}


def job(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine function as the handler of `kind`."""
    match = _KIND.match(kind)
    if not match:
        raise ValueError(f"job kind {kind!r} must look like '<module>.<name>' (lowercase)")

    def register(fn: Handler) -> Handler:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"the handler of {kind!r} must be an async function")
        # The module rule is what lets a worker find the handler; enforce it where it is broken.
        expected = f"jobs.{match.group(1)}"
        if fn.__module__ != expected:
            raise ValueError(f"the handler of {kind!r} must be defined in {expected}, not {fn.__module__}")
        if _handlers.get(kind, fn) is not fn:
            raise ValueError(f"job kind {kind!r} is registered twice")
        _handlers[kind] = fn
        return fn

    return register


def lookup(kind: str) -> Handler:
    """The handler of `kind`, importing its module on first use. Raises UnknownJobKind."""
    handler = _handlers.get(kind)
    if handler is not None:
        return handler
    match = _KIND.match(kind)
    if not match:
        raise UnknownJobKind(kind)
    module = f"jobs.{match.group(1)}"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # the module exists but is broken: that is a bug, not a bad kind
            raise
        raise UnknownJobKind(kind) from None
    handler = _handlers.get(kind)
    if handler is None:
        raise UnknownJobKind(kind)
    return handler


def kinds() -> list[str]:
    """Kinds registered in this process so far (modules are imported lazily)."""
    return sorted(_handlers)
