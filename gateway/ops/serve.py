"""`roost serve` and `roost migrate`: bring the services up (embedded ones for unset URLs), apply
pending migrations, and for `serve` run the gateway until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import os

import click
from aiohttp import web

from domain.settings import Settings
from gateway.ops.context import OpsContext, pass_ops

log = logging.getLogger("roost")

# Young-generation collections every 700 allocations cost the cheapest requests (guest polls make a
# few dozen objects each) a measurable share; request garbage is acyclic and freed by refcounting.
GC_GEN0_THRESHOLD = 50_000


@click.command(help="start the HTTP gateway (embedded services when unset)")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@pass_ops
def serve(ops: OpsContext, host: str, port: int) -> int:
    # imported here: Ray and the whole app load in seconds, which no other command should pay
    from actors.runtime import connect_ray, disconnect_ray
    from gateway.app import create_app
    from gateway.kernel.logs import JsonAccessLogger, configure_logging, route_to_root

    configure_logging(ops.settings.log_level)  # the server narrates at LOG_LEVEL (context.py)
    route_to_root("ray")  # stderr stays one JSON object per line (Ray's start-up notices included)

    ops.reap_dead_run()
    services = ops.embedded()
    try:
        endpoints = services.start()
        resolved = ops.settings.model_copy(
            update={
                "database_url": endpoints.database_url,
                "redis_url": endpoints.redis_url,
                "app_url": app_url_for(ops.settings, host, port),
            }
        )
        applied = asyncio.run(ops.migrate(endpoints.database_url))
        log.info("migrations applied", extra={"applied": applied})
        connect_ray(endpoints.ray_address, namespace=resolved.roost_ray_namespace)
        loop: asyncio.AbstractEventLoop
        try:
            import uvloop

            loop = uvloop.new_event_loop()
        except ImportError:  # uvloop is optional off Linux/macOS
            loop = asyncio.new_event_loop()
        log.info(
            "serving",
            extra={
                "host": host,
                "port": port,
                "env": resolved.app_env,
                "app_url": resolved.app_url,
                "app_url_from": "APP_URL" if "app_url" in ops.settings.model_fields_set else "the bound address",
            },
        )
        # run_app turns SIGINT/SIGTERM into a graceful shutdown; the finally below then stops
        # whatever this process started.
        app = create_app(resolved)
        s = ops.settings
        unset = {"postgres": s.database_url, "redis": s.redis_url, "ray": s.ray_address}
        state = {
            "pid": os.getpid(),
            "app_url": resolved.app_url,
            "database_url": endpoints.database_url,
            "redis_url": endpoints.redis_url,
            "ray_address": endpoints.ray_address,
            "embedded": [name for name, url in unset.items() if not url],
        }
        ops.record_serving(state)  # now, in case start-up dies half-way

        async def record_started(app: web.Application) -> None:
            ops.record_serving(state)  # again with what the cleanup contexts started (Ray workers)

        app.on_startup.append(_tune_gc)  # after the cleanup contexts have started everything
        app.on_startup.append(record_started)
        web.run_app(
            app,
            host=host,
            port=port,
            loop=loop,
            print=None,
            **({"access_log_class": JsonAccessLogger} if resolved.access_log else {"access_log": None}),
        )
    finally:
        ops.clear_serving()
        disconnect_ray()
        services.stop()
    return 0


def app_url_for(settings: Settings, host: str, port: int) -> str:
    """The public base URL of every link Roost writes (upload URLs, media, pagination): APP_URL
    when it is set, else the address this server is bound to, so that `--port 8100` without
    APP_URL hands out links that answer. A wildcard bind is reachable on loopback."""
    if "app_url" in settings.model_fields_set:
        return settings.app_url
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 literal in a URL
    return f"http://{shown}:{port}"


async def _tune_gc(app: web.Application) -> None:
    """Once everything is started: move the long-lived objects of imports and startup (Ray,
    pydantic, prometheus, ...) out of the collector's scans, and collect the young generation less
    often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


@click.command(help="apply pending database migrations")
@pass_ops
def migrate(ops: OpsContext) -> int:
    with ops.embedded(redis=False) as endpoints:  # migrations need PostgreSQL only
        applied = asyncio.run(ops.migrate(endpoints.database_url))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0
