"""AI clients under load (003): generations sync and async, async ones polled to the end.

    locust -f loadtests/ai_clients.py --headless -u 20 -r 10 -t 60s --host http://127.0.0.1:8000 \\
        [--clients 20] [--think 2] [--async-share 0.5] [--quota 0] [--max-failures 0] [--hosts http://a,http://b]

The server must have an AI provider it can reach (for a local run: loadtests/fake_provider.py and
`AI_PROVIDER=gorq AI_BASE_URL=http://127.0.0.1:P AI_API_KEY_ENV=... ` with that variable set
to the fake's key in the server's environment, which its Ray workers inherit; `make load` does it).

The clients: a setup step (on the master, before any user starts) registers `--clients` accounts
straight into the PostgreSQL at DATABASE_URL (the server's database, through Roost's own account
code) with an API token each, and sets the daily quota runtime setting to `--quota`, by default
out of the way (a run sends more than the default 1000 a day per user; the server reads it within
RUNTIME_SETTINGS_POLL_S). With `--quota` set, the quota's 429 is deliberate: counted, not failed,
on a generation and on a status poll alike (every /api request counts against the quota, so once
it is spent a client stops polling the job it is waiting for).

What a client does (one account per Locust user, round robin; FastHttpUser)
- sync: `POST /api/ai/generate {prompt}`: 200 with the provider's answer, or 202 when it took
  longer than AI_SYNC_TIMEOUT_S, which is then polled like an async one;
- async (`--async-share` of them): `POST ... {"async": true}`: 202 with `status_url`, polled
  (`GET /api/ai/jobs/{id}/status`, grouped as one name) every 0.2 s until `finished`; `failed`,
  or not finished within 30 s, is a failure.
Every answer but 200/202 is a failure, a 429 included (but the quota's under `--quota`): at the
default think time a client sends about 30 generations a minute, half of throttle:ai's 60.
0 failures are expected.

At the end it prints the counts, failures and p50/p99, and exits non-zero when failures exceed
--max-failures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.locust_report import report  # noqa: E402
from loadtests.roost_user import RoostUser, add_quota_option, add_shared_options, quota_spent, selected  # noqa: E402

log = logging.getLogger("ai_clients")

POLL_S = 0.2
POLL_LIMIT_S = 30.0


@dataclass
class Client:
    email: str
    token: str = ""


_clients: list[Client] = []
_next = {"i": 0}
_counts = {"sync": 0, "async": 0, "polled": 0, "sync_fell_back": 0, "quota_429": 0}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Roost AI clients")
    group.add_argument("--clients", type=int, default=20, help="accounts created for the run")
    group.add_argument("--async-share", type=float, default=0.5, help="share of generations sent with async: true")
    add_quota_option(group)
    add_shared_options(group)


def _parsed(environment: Environment) -> argparse.Namespace:
    opts = environment.parsed_options
    if opts is None:  # set whenever the locust command runs this file, the one way it is run
        raise SystemExit("ai_clients.py runs under the locust command")
    return opts


async def _register(database_url: str, clients: list[Client], quota: int) -> None:
    from loadtests.seeding import NO_QUOTA, seed_accounts

    seeded = await seed_accounts(
        database_url, [c.email for c in clients], token_name="locust-ai", daily_quota=quota or NO_QUOTA
    )
    for client, account in zip(clients, seeded, strict=True):
        client.token = account.token


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    opts = _parsed(environment)
    if not selected(environment, AiClient):
        return
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("ai_clients.py: set DATABASE_URL (the server's database) for the setup step")
    run = uuid.uuid4().hex[:8]
    _clients[:] = [Client(f"locust-ai-{run}-{i}@example.test") for i in range(opts.clients)]
    asyncio.run(_register(database_url, _clients, opts.quota))
    time.sleep(3)  # the server re-reads runtime settings (the raised quota) every 2 s
    log.info("registered %d AI clients", len(_clients))


class AiClient(RoostUser):
    kind = "ai_clients"
    default_think = 2.0

    def on_start(self) -> None:
        client = _clients[_next["i"] % len(_clients)]
        _next["i"] += 1
        self._headers = {"Authorization": f"Bearer {client.token}", "Accept": "application/json"}

    def _poll(self, status_url: str) -> None:
        path = urlsplit(status_url).path
        deadline = time.monotonic() + POLL_LIMIT_S
        while True:
            with self.client.get(path, headers=self._headers, name="/api/ai/jobs/[id]/status",
                                 catch_response=True) as resp:
                _counts["polled"] += 1
                if resp.status_code == 429 and _parsed(self.environment).quota and quota_spent(resp):
                    # deliberate: a status poll is an /api request too, and the quota is spent; the
                    # job's outcome is out of this client's reach until the quota resets
                    _counts["quota_429"] += 1
                    resp.success()
                    return
                if resp.status_code != 200:
                    resp.failure(f"status poll answered {resp.status_code}")
                    return
                status = resp.json()["data"]["status"]
                if status == "finished":
                    resp.success()
                    return
                if status == "failed":
                    resp.failure(f"generation failed: {resp.json()['data'].get('error')}")
                    return
                if time.monotonic() > deadline:
                    resp.failure(f"still {status} after {POLL_LIMIT_S:.0f} s")
                    return
                resp.success()
            time.sleep(POLL_S)

    @task
    def generate(self) -> None:
        is_async = random.random() < _parsed(self.environment).async_share
        body: dict[str, Any] = {"prompt": f"Name a dog breed ({uuid.uuid4().hex[:6]})", "max_tokens": 32}
        if is_async:
            body["async"] = True
        name = "/api/ai/generate (async)" if is_async else "/api/ai/generate (sync)"
        with self.client.post("/api/ai/generate", json=body, headers=self._headers, name=name,
                              catch_response=True) as resp:
            if resp.status_code == 200 and not is_async:
                _counts["sync"] += 1
                resp.success()
                return
            if resp.status_code == 429 and _parsed(self.environment).quota and quota_spent(resp):
                _counts["quota_429"] += 1  # deliberate: the quota this run set
                resp.success()
                return
            if resp.status_code != 202:
                resp.failure(f"answered {resp.status_code}: {(resp.text or '')[:200]}")
                return
            resp.success()
            status_url = resp.json()["data"]["status_url"]
        _counts["async" if is_async else "sync_fell_back"] += 1
        self._poll(status_url)


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    report(
        environment,
        "ai_clients",
        _parsed(environment).max_failures,
        f"sync {_counts['sync']} (+{_counts['sync_fell_back']} polled after 202), async {_counts['async']}, "
        f"status polls {_counts['polled']}, daily-quota 429s {_counts['quota_429']}",
    )
