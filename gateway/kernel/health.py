"""Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import ChainMapProxy, web

from actors.runtime import ray_alive
from gateway.kernel.json_io import json_response
from gateway.kernel.keys import pool_key, redis_key

# A dependency slower than this is as good as down for a load balancer deciding where to send traffic.
CHECK_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def _postgres(app: ChainMapProxy) -> bool:
    async with app[pool_key].acquire() as conn:
        return await conn.fetchval("select 1") == 1


async def _redis(app: ChainMapProxy) -> bool:
    return bool(await app[redis_key].ping())


async def _ray(app: ChainMapProxy) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, ray_alive)


async def _check(probe: Callable[[ChainMapProxy], Awaitable[bool]], app: ChainMapProxy) -> str:
    try:
        ok = await asyncio.wait_for(probe(app), CHECK_TIMEOUT_S)
    except Exception as exc:  # the reason goes in the body; readiness never raises
        return f"down: {type(exc).__name__}"
    return "ok" if ok else "down"


async def readyz(request: web.Request) -> web.Response:
    app = request.config_dict
    names = ("postgres", "redis", "ray")
    results = await asyncio.gather(*(_check(p, app) for p in (_postgres, _redis, _ray)))
    checks = dict(zip(names, results, strict=True))
    ready = all(v == "ok" for v in checks.values())
    return json_response({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
