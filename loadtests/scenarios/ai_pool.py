"""ai_pool: a burst of async AI generations through the worker pool, against the provider cap.

GENERATIONS `POST /api/ai/generate {"async": true}` at once against a local fake provider
(loadtests/fake_provider.py) that answers in PROVIDER_LATENCY_S, with AI_PROVIDER_CONCURRENCY=CAP:
no pool can finish more than CAP / PROVIDER_LATENCY_S generations a second (320 at 32 and 100 ms),
so `ratio` = completed generations per second / that limit (1.0: the cap is the only bound). The
clock runs from the first POST to the last row finished (read from `ai_requests`).

Meanwhile a light prober (PROBERS loops, each a `GET /api/ping` every PROBE_GAP_S) measures what
every other client sees: `ping_p99_burst_ms` against `ping_p99_idle_ms` from the same prober before
the burst (`ping_p99_ratio`; the bar is 1.5). `provider_peak` is the fake's most calls in flight,
which must not pass CAP.

Roost runs as `roost serve` unpinned (the gateway and its Ray workers share the two cores with
PostgreSQL and the fake), with the /api throttles and quota out of the way, as in the other
scenarios.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from loadtests.progress import progress
from loadtests.registry import BenchContext, InProcessScenario, register
from loadtests.services import Cores, free_port, roost_server

CAP = 32
PROVIDER_LATENCY_S = 0.1
PROBERS = 4
PROBE_GAP_S = 0.02
IDLE_PROBE_S = 5.0
# the client's own limit on POSTs in flight (a burst from many clients, not 500 sockets at once)
CLIENT_CONNECTIONS = 64
KEY_ENV = "BENCH_AI_API_KEY"


def _generations(ctx: BenchContext) -> int:
    return 100 if ctx.config.quick else 500


async def _seed(database_url: str) -> tuple[int, str]:
    """A user and an API token; the daily quota out of the way."""
    from loadtests.seeding import seed_accounts

    (account,) = await seed_accounts(database_url, [f"bench-ai-{uuid.uuid4().hex[:8]}@example.test"])
    return account.user_id, account.token


class Prober:
    """A few sequential pingers: latencies of a client that is not part of the burst."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.samples: list[float] = []
        self.errors = 0
        self._stop = asyncio.Event()

    async def _loop(self, session: aiohttp.ClientSession) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                async with session.get(self._url) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                self.samples.append((time.perf_counter() - started) * 1000)
            else:
                self.errors += 1
            await asyncio.sleep(PROBE_GAP_S)

    async def run_until_stopped(self) -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(self._loop(session) for _ in range(PROBERS)))

    def stop(self) -> None:
        self._stop.set()

    def p99(self) -> float:
        if len(self.samples) < 20:
            raise RuntimeError(f"the prober got {len(self.samples)} answers ({self.errors} errors)")
        return statistics.quantiles(self.samples, n=100)[98]


async def _probe(url: str, seconds: float) -> Prober:
    prober = Prober(url)
    task = asyncio.create_task(prober.run_until_stopped())
    await asyncio.sleep(seconds)
    prober.stop()
    await task
    return prober


async def _settled(database_url: str, user_id: int, n: int, timeout_s: float) -> tuple[float, int]:
    """Waits until the user's n rows are finished or failed; (when, how many failed)."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.perf_counter() + timeout_s
        while True:
            row = await conn.fetchrow(
                """select count(*) filter (where status in ('finished', 'failed')) as done,
                          count(*) filter (where status = 'failed') as failed
                   from ai_requests where user_id = $1""",
                user_id,
            )
            if row["done"] >= n:
                return time.perf_counter(), row["failed"]
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {row['done']} of {n} generations settled in {timeout_s:.0f} s")
            await asyncio.sleep(0.02)
    finally:
        await conn.close()


async def _burst(base: str, auth: str, n: int) -> list[int]:
    """The n POSTs, at most CLIENT_CONNECTIONS in flight; every answer must be 202."""
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=CLIENT_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": auth}) as session:

        async def one(i: int) -> None:
            body = {"prompt": f"bench generation {i}", "async": True}
            async with session.post(f"{base}/api/ai/generate", json=body) as resp:
                await resp.read()
                statuses.append(resp.status)

        await asyncio.gather(*(one(i) for i in range(n)))
    return statuses


async def _measure(ctx: BenchContext, base: str, provider: str) -> dict[str, Any]:
    n = _generations(ctx)
    user_id, token = await _seed(ctx.database_url)
    # gateways re-read runtime settings every RUNTIME_SETTINGS_POLL_S (2 s): the raised quota first
    await asyncio.sleep(3)
    auth = f"Bearer {token}"
    # warm the path (the job worker actor, its pool, the gate) with a few, then the idle prober
    warm = await _burst(base, auth, 8)
    assert set(warm) == {202}, warm
    await _settled(ctx.database_url, user_id, 8, 60)
    idle = await _probe(f"{base}/api/ping", 2.0 if ctx.config.quick else IDLE_PROBE_S)

    progress(f"ai_pool: {n} async generations, cap {CAP}, provider {PROVIDER_LATENCY_S * 1000:.0f} ms")
    prober = Prober(f"{base}/api/ping")
    probing = asyncio.create_task(prober.run_until_stopped())
    started = time.perf_counter()
    statuses = await _burst(base, auth, n)
    accepted = time.perf_counter()
    ended, failed = await _settled(ctx.database_url, user_id, n + 8, 120)
    prober.stop()
    await probing
    if set(statuses) != {202}:
        raise RuntimeError(f"ai_pool: answers other than 202: {sorted(set(statuses))}")
    async with aiohttp.ClientSession() as session, session.get(f"{provider}/stats") as resp:
        stats = await resp.json()
    elapsed = ended - started
    per_s = n / elapsed
    limit = CAP / PROVIDER_LATENCY_S
    idle_p99, burst_p99 = idle.p99(), prober.p99()
    return {
        "scenario": "ai_pool",
        "generations": n,
        "cap": CAP,
        "provider_latency_ms": round(PROVIDER_LATENCY_S * 1000),
        "seconds": round(elapsed, 2),
        "completed_per_s": round(per_s, 1),
        # how fast the gateway took the POSTs: the completions cannot outpace it
        "accepted_per_s": round(n / (accepted - started), 1),
        "cap_per_s": round(limit, 1),
        "ratio": round(per_s / limit, 3),
        "failed": failed,
        "provider_peak": stats["peak"],
        "ping_p99_idle_ms": round(idle_p99, 2),
        "ping_p99_burst_ms": round(burst_p99, 2),
        "ping_p99_ratio": round(burst_p99 / idle_p99, 2),
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    key = secrets.token_hex(16)
    port = free_port()
    provider_url = f"http://127.0.0.1:{port}"
    script = str(Path(__file__).resolve().parent.parent / "fake_provider.py")
    fake = subprocess.Popen(
        [sys.executable, script, "--port", str(port), "--latency", str(PROVIDER_LATENCY_S), "--key", key]
    )
    server = roost_server(
        work_dir=ctx.work_dir,
        database_url=ctx.database_url,
        redis_url=ctx.redis_url,
        namespace=ctx.namespace,
        cores=Cores(server=None, generator=None),
        name="roost-ai",
        extra_env={
            "AI_PROVIDER": "gorq",
            "AI_BASE_URL": provider_url,
            "AI_API_KEY_ENV": KEY_ENV,
            # the workers read the key from their environment: Ray's local workers inherit it
            KEY_ENV: key,
            "AI_PROVIDER_CONCURRENCY": str(CAP),
            "AI_RATE_LIMIT_PER_MINUTE": "1000000000",
            "AI_PROVIDER_TIMEOUT_S": "10",
        },
    )
    try:
        server.start()
        server.wait_ready()
        return asyncio.run(_measure(ctx, server.url, provider_url))
    finally:
        server.stop()
        fake.terminate()
        fake.wait(timeout=10)


register(InProcessScenario(name="ai_pool", run=run))
