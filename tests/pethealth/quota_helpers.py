"""Setting the runtime quota for a test and putting it back."""

from __future__ import annotations

from contextlib import asynccontextmanager

from domain import system_settings
from gateway.kernel.keys import pool_key, runtime_settings_key


async def set_setting(app, name: str, value: int) -> None:
    """Write the setting and make this gateway see it now (others see it within a poll)."""
    async with app[pool_key].acquire() as conn:
        await system_settings.write(conn, name, value)
    await app[runtime_settings_key].refresh()


@asynccontextmanager
async def runtime_setting(app, name: str, value: int):
    default = system_settings.SPECS[name].default
    await set_setting(app, name, value)
    try:
        yield
    finally:
        # the database lives for the whole session: later tests expect the default
        await set_setting(app, name, default)
