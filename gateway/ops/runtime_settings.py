"""`roost settings get|set|list`: the runtime settings in `system_settings`.

Every running gateway re-reads that table every RUNTIME_SETTINGS_POLL_S seconds, so a change
applies everywhere within seconds, no restart.
"""

from __future__ import annotations

import click

from domain import system_settings
from gateway.ops.context import OpsContext, pass_ops


@click.group("settings", help="runtime settings (applied by running gateways within seconds)")
def settings() -> None:
    pass


@settings.command("get", help=f"print a setting ({', '.join(sorted(system_settings.SPECS))})")
@click.argument("name")
@pass_ops
def settings_get(ops: OpsContext, name: str) -> int:
    async def work() -> int:
        system_settings.spec_of(name)
        async with ops.pool(read_only=True) as pool, pool.acquire() as conn:
            print(await system_settings.read(conn, name))
        return 0

    return ops.run(work())


# A value such as `-5` is a value to refuse with the setting's own range message, not an unknown
# option (argparse, which this replaced, read it the same way).
@settings.command("set", help="change a setting", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("value")
@pass_ops
def settings_set(ops: OpsContext, name: str, value: str) -> int:
    async def work() -> int:
        system_settings.spec_of(name).parse(value)  # refuse before starting a database
        async with ops.pool() as pool, pool.acquire() as conn:
            stored = await system_settings.write(conn, name, value)
        print(f"{name} = {stored}")
        return 0

    return ops.run(work())


@settings.command("list", help="every setting with its value")
@pass_ops
def settings_list(ops: OpsContext) -> int:
    async def work() -> int:
        async with ops.pool(read_only=True) as pool, pool.acquire() as conn:
            for name, spec in sorted(system_settings.SPECS.items()):
                print(f"{name} = {await system_settings.read(conn, name)}  # {spec.help} (default {spec.default})")
        return 0

    return ops.run(work())
