"""Runtime settings: values an operator changes without a restart (`roost settings set`).

Each known setting has a default and bounds; the database row wins when present and valid. Every
gateway holds a `RuntimeSettings` that re-reads the table every few seconds, so a change reaches
all of them within one poll interval. A bad row (edited by hand) falls back to the default rather
than breaking requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.clock import SYSTEM_CLOCK, Clock
from domain.errors import Invalid
from domain.periodic import Periodic
from storage import system_settings as settings_sql

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    default: int
    minimum: int
    maximum: int
    help: str

    def parse(self, raw: Any) -> int:
        """The value as stored or typed by an operator; Invalid(422) unless an integer in range."""
        if isinstance(raw, bool):
            raise Invalid(f"{self.name} must be an integer", fields={self.name: ["must be an integer"]})
        try:
            value = int(raw.strip()) if isinstance(raw, str) else int(raw)
        except (TypeError, ValueError):
            raise Invalid(f"{self.name} must be an integer", fields={self.name: ["must be an integer"]}) from None
        if isinstance(raw, float) and raw != value:
            raise Invalid(f"{self.name} must be an integer", fields={self.name: ["must be an integer"]})
        if not self.minimum <= value <= self.maximum:
            msg = f"{self.name} must be between {self.minimum} and {self.maximum}"
            raise Invalid(msg, fields={self.name: [msg]})
        return value


SPECS: dict[str, SettingSpec] = {
    s.name: s
    for s in (
        SettingSpec(
            "api_daily_quota_regular", 1000, 0, 1_000_000_000, "requests per UTC day for regular (non-premium) users"
        ),
        SettingSpec("api_request_logs_retention_days", 30, 1, 36500, "days api_request_logs rows are kept"),
    )
}


def spec_of(name: str) -> SettingSpec:
    spec = SPECS.get(name)
    if spec is None:
        msg = f"unknown setting {name!r}; known: {', '.join(sorted(SPECS))}"
        raise Invalid(msg, code="unknown_setting", fields={"name": [msg]})
    return spec


def resolve(stored: dict[str, Any]) -> dict[str, int]:
    """Every known setting's effective value from the stored rows."""
    values: dict[str, int] = {}
    for name, spec in SPECS.items():
        raw = stored.get(name)
        try:
            values[name] = spec.default if raw is None else spec.parse(raw)
        except Invalid:
            log.warning("bad runtime setting; using the default", extra={"setting": name})
            values[name] = spec.default
    return values


async def read(conn: asyncpg.Connection, name: str) -> int:
    return resolve({name: await settings_sql.get(conn, name)})[name]


async def write(conn: asyncpg.Connection, name: str, raw: Any) -> int:
    value = spec_of(name).parse(raw)
    await settings_sql.put(conn, name, value)
    return value


class RuntimeSettings:
    """This process's copy of the settings, refreshed in the background every `poll_s` seconds."""

    def __init__(self, pool: asyncpg.Pool, *, poll_s: float = 2.0, clock: Clock = SYSTEM_CLOCK) -> None:
        self._pool = pool
        self._values = {name: spec.default for name, spec in SPECS.items()}
        # a failed refresh (a database blip) keeps the last values; the next poll tries again
        self._poller = Periodic("runtime-settings-refresh", self.refresh, poll_s, clock=clock)

    def get(self, name: str) -> int:
        return self._values[name]

    async def refresh(self) -> None:
        async with self._pool.acquire() as conn:
            self._values = resolve(await settings_sql.get_all(conn))

    async def start(self) -> None:
        await self.refresh()
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
