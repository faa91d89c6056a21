"""`roost check`: is each server the gateway needs reachable? Exit 1 when one is not.

A configured server (DATABASE_URL, REDIS_URL, RAY_ADDRESS) is probed where it is. An unset one is
the embedded one a running `roost serve` started for this data folder (its serve.json says
where): probed there, or reported not running (which fails the check: nothing would serve).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import click

from gateway.ops.context import OpsContext, pass_ops

# where serve.json (gateway/ops/serve.py) keeps each embedded server's address
_STATE_KEYS = {"postgres": "database_url", "redis": "redis_url", "ray": "ray_address"}
# A server that has not answered in this long is reported unreachable rather than waited for.
PROBE_TIMEOUT_S = 5


def redact(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


async def _check_postgres(url: str) -> str:
    import asyncpg

    conn = await asyncio.wait_for(asyncpg.connect(url), PROBE_TIMEOUT_S)
    try:
        return "ok (" + (await conn.fetchval("show server_version")) + ")"
    finally:
        await conn.close()


async def _check_redis(url: str) -> str:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_S)
    try:
        info = await client.info("server")
        return f"ok ({info.get('redis_version', '?')})"
    finally:
        await client.aclose()


def _check_ray(address: str) -> str:
    from actors.runtime import connect_ray, disconnect_ray, ray_alive

    connect_ray(address, namespace="roost-check")
    try:
        return "ok" if ray_alive() else "down"
    finally:
        disconnect_ray()


@click.command(help="report whether PostgreSQL, Redis and Ray are reachable")
@pass_ops
def check(ops: OpsContext) -> int:
    s = ops.settings
    data_dir = s.roost_data_dir
    state = ops.serving()
    healthy = True
    checks: tuple[tuple[str, str | None, Callable[[str], str]], ...] = (
        ("postgres", s.database_url, lambda u: asyncio.run(_check_postgres(u))),
        ("redis", s.redis_url, lambda u: asyncio.run(_check_redis(u))),
        ("ray", s.ray_address, _check_ray),
    )
    if state is not None:
        print(f"roost serve: running (pid {state['pid']}, {state.get('app_url')}, data folder {data_dir})")
    for name, url, probe in checks:
        where = ""
        if not url:
            if state is None:
                healthy = False
                detail = ""
                if name == "postgres":
                    held = "holds a database" if ops.has_database() else "holds no database yet"
                    detail = f"; data folder {data_dir} {held}"
                print(f"{name}: embedded, not running (`roost serve` starts it{detail})")
                continue
            url = state.get(_STATE_KEYS[name])
            where = f", embedded, started by roost serve pid {state['pid']}"
            if not url:  # Ray started inside the serve process: nothing to reach from outside
                print(f"ray: embedded, local to roost serve pid {state['pid']} (its /readyz reports it)")
                continue
        try:
            print(f"{name}: {probe(url)} at {redact(url)}{where}")
        except Exception as exc:  # report every server, then fail once
            healthy = False
            print(f"{name}: unreachable at {redact(url)}{where}: {type(exc).__name__}: {exc}")
    return 0 if healthy else 1
