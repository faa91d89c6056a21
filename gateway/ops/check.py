"""`roost check`: is each configured server reachable? Unset ones are started embedded by `serve`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import click

from gateway.ops.context import OpsContext, pass_ops

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
    healthy = True
    checks: tuple[tuple[str, str | None, Callable[[str], str]], ...] = (
        ("postgres", s.database_url, lambda u: asyncio.run(_check_postgres(u))),
        ("redis", s.redis_url, lambda u: asyncio.run(_check_redis(u))),
        ("ray", s.ray_address, _check_ray),
    )
    for name, url, probe in checks:
        if not url:
            print(f"{name}: not configured (serve starts an embedded one)")
            continue
        try:
            print(f"{name}: {probe(url)} at {redact(url)}")
        except Exception as exc:  # report every server, then fail once
            healthy = False
            print(f"{name}: unreachable at {redact(url)}: {type(exc).__name__}: {exc}")
    return 0 if healthy else 1
