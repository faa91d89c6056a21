"""`roost settings get|set|list` and `roost api-logs prune|tail`.

Settings are written to `system_settings`; every running gateway re-reads that table every
RUNTIME_SETTINGS_POLL_S seconds, so a change applies everywhere within seconds, no restart.
Like the other admin commands they run against DATABASE_URL (or the embedded PostgreSQL under
ROOST_DATA_DIR), applying pending migrations first.
"""

from __future__ import annotations

import argparse

from domain import system_settings
from gateway.admin_cli import _pool, _run
from domain.settings import Settings
from storage import request_logs as logs_sql


def cmd_settings_get(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        system_settings.spec_of(args.name)
        async with _pool(settings) as pool, pool.acquire() as conn:
            print(await system_settings.read(conn, args.name))
        return 0

    return _run(work)


def cmd_settings_set(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        system_settings.spec_of(args.name).parse(args.value)  # refuse before starting a database
        async with _pool(settings) as pool, pool.acquire() as conn:
            value = await system_settings.write(conn, args.name, args.value)
        print(f"{args.name} = {value}")
        return 0

    return _run(work)


def cmd_settings_list(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        async with _pool(settings) as pool, pool.acquire() as conn:
            for name, spec in sorted(system_settings.SPECS.items()):
                print(f"{name} = {await system_settings.read(conn, name)}  # {spec.help} (default {spec.default})")
        return 0

    return _run(work)


def cmd_api_logs_prune(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        async with _pool(settings) as pool, pool.acquire() as conn:
            days = args.days or await system_settings.read(conn, "api_request_logs_retention_days")
            deleted = await logs_sql.prune(conn, days)
        print(f"pruned {deleted} api request log rows older than {days} days")
        return 0

    return _run(work)


def cmd_api_logs_tail(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        async with _pool(settings) as pool, pool.acquire() as conn:
            rows = await logs_sql.tail(conn, args.limit)
        for r in rows:
            user = r["user_id"] if r["user_id"] is not None else "-"
            print(
                f"{r['created_at'].isoformat()} {r['method']} /{r['path']} {r['status_code']} "
                f"route={r['route_uri'] or '-'} auth={r['auth_mode']} user={user}"
            )
        return 0

    return _run(work)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(sorted(system_settings.SPECS))
    cmds = sub.add_parser("settings", help="runtime settings (applied by running gateways within seconds)")
    settings_sub = cmds.add_subparsers(dest="settings_command", required=True)
    get = settings_sub.add_parser("get", help=f"print a setting ({names})")
    get.add_argument("name")
    get.set_defaults(func=cmd_settings_get)
    put = settings_sub.add_parser("set", help="change a setting")
    put.add_argument("name")
    put.add_argument("value")
    put.set_defaults(func=cmd_settings_set)
    settings_sub.add_parser("list", help="every setting with its value").set_defaults(func=cmd_settings_list)

    logs = sub.add_parser("api-logs", help="the /api request log").add_subparsers(
        dest="api_logs_command", required=True
    )
    prune = logs.add_parser("prune", help="delete rows older than api_request_logs_retention_days")
    prune.add_argument("--days", type=_positive, help="override the retention setting for this run")
    prune.set_defaults(func=cmd_api_logs_prune)
    tail = logs.add_parser("tail", help="print the newest rows, oldest first")
    tail.add_argument("--limit", type=_positive, default=20)
    tail.set_defaults(func=cmd_api_logs_tail)
