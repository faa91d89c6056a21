"""ping: the full middleware stack and /api envelope against a handler returning the same JSON.

No database and no actors: this is the floor of what any Roost request costs over bare aiohttp.
"""

from __future__ import annotations

from loadtests.registry import HttpScenario, HttpTarget, register

register(HttpScenario(name="ping", ours=HttpTarget("/api/ping"), baseline=HttpTarget("/ping")))
