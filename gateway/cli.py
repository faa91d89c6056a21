"""`roost`: serve, migrate, check. Later issues add admin subcommands here."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from gateway.admin_cli import add_commands as add_admin_commands
from gateway.tenants_cli import add_commands as add_tenant_commands
from gateway.embedded import EmbeddedServices
from gateway.kernel.logs import JsonAccessLogger, configure_logging
from domain.settings import Settings

log = logging.getLogger("roost")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _embedded(settings: Settings) -> EmbeddedServices:
    return EmbeddedServices(
        data_dir=settings.roost_data_dir,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        ray_address=settings.ray_address,
    )


async def _migrate(dsn: str) -> list[str]:
    from storage.migrate import migrate
    from storage.pool import connect

    conn = await connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from actors.runtime import connect_ray, disconnect_ray
    from gateway.app import create_app

    services = _embedded(settings)
    try:
        endpoints = services.start()
        resolved = settings.model_copy(
            update={"database_url": endpoints.database_url, "redis_url": endpoints.redis_url}
        )
        applied = asyncio.run(_migrate(resolved.database_url))
        log.info("migrations applied", extra={"applied": applied})
        connect_ray(endpoints.ray_address, namespace=resolved.roost_ray_namespace)
        try:
            import uvloop

            loop = uvloop.new_event_loop()
        except ImportError:  # uvloop is optional off Linux/macOS
            loop = asyncio.new_event_loop()
        log.info("serving", extra={"host": args.host, "port": args.port, "env": resolved.app_env})
        # run_app turns SIGINT/SIGTERM into a graceful shutdown; the finally below then stops
        # whatever this process started.
        app = create_app(resolved)
        app.on_startup.append(_tune_gc)  # after the cleanup contexts have started everything
        web.run_app(
            app,
            host=args.host,
            port=args.port,
            loop=loop,
            print=None,
            **({"access_log_class": JsonAccessLogger} if resolved.access_log else {"access_log": None}),
        )
    finally:
        disconnect_ray()
        services.stop()
    return 0


# Young-generation collections every 700 allocations cost the cheapest requests (guest polls make a
# few dozen objects each) a measurable share; request garbage is acyclic and freed by refcounting.
GC_GEN0_THRESHOLD = 50_000


async def _tune_gc(app: web.Application) -> None:
    """Once everything is started: move the long-lived objects of imports and startup (Ray,
    pydantic, prometheus, ...) out of the collector's scans, and collect the young generation less
    often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with _embedded(settings) as endpoints:
        applied = asyncio.run(_migrate(endpoints.database_url))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


async def _check_postgres(url: str) -> str:
    import asyncpg

    conn = await asyncio.wait_for(asyncpg.connect(url), 5)
    try:
        return "ok (" + (await conn.fetchval("show server_version")) + ")"
    finally:
        await conn.close()


async def _check_redis(url: str) -> str:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=5)
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


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    """Reachability of the configured servers; unset ones are started embedded by `serve`."""
    healthy = True
    checks = (
        ("postgres", settings.database_url, lambda u: asyncio.run(_check_postgres(u))),
        ("redis", settings.redis_url, lambda u: asyncio.run(_check_redis(u))),
        ("ray", settings.ray_address, _check_ray),
    )
    for name, url, probe in checks:
        if not url:
            print(f"{name}: not configured (serve starts an embedded one)")
            continue
        try:
            print(f"{name}: {probe(url)} at {_redact(url)}")
        except Exception as exc:  # report every server, then fail once
            healthy = False
            print(f"{name}: unreachable at {_redact(url)}: {type(exc).__name__}: {exc}")
    return 0 if healthy else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roost", description="Roost backend")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the HTTP gateway (embedded services when unset)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("check", help="report whether PostgreSQL, Redis and Ray are reachable").set_defaults(
        func=cmd_check
    )
    add_admin_commands(sub)
    add_tenant_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"roost: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    return args.func(settings, args)


if __name__ == "__main__":
    sys.exit(main())
