"""Pet owners' API clients under load (000): personal access tokens reading pet lists and health
records, adding pets and weights, against the daily quota.

    locust -f loadtests/pet_owners.py --headless -u 20 -r 10 -t 60s --host http://127.0.0.1:8000 \\
        [--owners 20] [--think 1] [--quota 0] [--max-failures 0] [--hosts http://a,http://b]

The owners: a setup step (on the master, before any user starts) registers `--owners` accounts
straight into the PostgreSQL at DATABASE_URL (the server's database, through Roost's own account
code), each with an API token (`read`, `create`, `update`), and sets the daily quota runtime
setting for regular users to `--quota` (0: out of the way). The server reads it within
RUNTIME_SETTINGS_POLL_S.

What an owner does (one account per Locust user, round robin; FastHttpUser)
- GET /api/my-pets (most often), GET /api/my-pets/sections, GET /api/users/me;
- GET a pet's weights and vaccinations (public reads, with the token);
- now and then POST /api/pets (country VN) and POST /api/pets/{pet}/weights for a new day.
A 429 of the daily quota (its body's `data.quota.remaining` is 0) is deliberate when `--quota` is set: counted,
not failed; every other answer but 200/201 is a failure. 0 failures are expected.

At the end it prints the counts, failures, p50/p99 and the 429s, and exits non-zero when failures
exceed --max-failures.
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
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from locust import events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.locust_report import report  # noqa: E402
from loadtests.roost_user import RoostUser, add_quota_option, add_shared_options, quota_spent, selected  # noqa: E402

log = logging.getLogger("pet_owners")

ABILITIES = ["read", "create", "update"]


@dataclass
class Owner:
    email: str
    token: str = ""
    pets: list[int] = field(default_factory=list)
    next_day: int = 0  # weights go back one day at a time: one record per pet per day


_owners: list[Owner] = []
_next = {"i": 0}
_counts = {"quota_429": 0, "pets": 0, "weights": 0}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Roost pet owners")
    group.add_argument("--owners", type=int, default=20, help="accounts created for the run")
    add_quota_option(group)
    add_shared_options(group)


def _parsed(environment: Environment) -> argparse.Namespace:
    opts = environment.parsed_options
    if opts is None:  # set whenever the locust command runs this file, the one way it is run
        raise SystemExit("pet_owners.py runs under the locust command")
    return opts


async def _register(database_url: str, owners: list[Owner], quota: int) -> None:
    from loadtests.seeding import NO_QUOTA, seed_accounts

    emails = [o.email for o in owners]
    seeded = await seed_accounts(
        database_url, emails, abilities=ABILITIES, token_name="locust-owner", daily_quota=quota or NO_QUOTA
    )
    for owner, account in zip(owners, seeded, strict=True):
        owner.token = account.token


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    opts = _parsed(environment)
    if not selected(environment, PetOwner):
        return
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("pet_owners.py: set DATABASE_URL (the server's database) for the setup step")
    run = uuid.uuid4().hex[:8]
    _owners[:] = [Owner(f"locust-owner-{run}-{i}@example.test") for i in range(opts.owners)]
    asyncio.run(_register(database_url, _owners, opts.quota))
    time.sleep(3)  # the server re-reads runtime settings (the quota) every 2 s
    log.info("registered %d pet owners", len(_owners))


class PetOwner(RoostUser):
    kind = "pet_owners"
    default_think = 1.0

    def on_start(self) -> None:
        self.owner = _owners[_next["i"] % len(_owners)]
        _next["i"] += 1
        self._headers = {"Authorization": f"Bearer {self.owner.token}", "Accept": "application/json"}
        if not self.owner.pets:
            self.add_pet()

    def _call(self, method: str, path: str, name: str, body: dict | None = None) -> Any:
        with self.client.request(method, path, json=body, headers=self._headers, name=name,
                                 catch_response=True) as resp:
            if resp.status_code == 429 and _parsed(self.environment).quota and quota_spent(resp):
                _counts["quota_429"] += 1  # deliberate: the quota this run set
                resp.success()
                return None
            if resp.status_code not in (200, 201):
                resp.failure(f"answered {resp.status_code}: {(resp.text or '')[:200]}")
                return None
            resp.success()
            return resp.json()["data"]

    @task(6)
    def my_pets(self) -> None:
        self._call("GET", "/api/my-pets", "/api/my-pets")

    @task(1)
    def sections(self) -> None:
        self._call("GET", "/api/my-pets/sections", "/api/my-pets/sections")

    @task(1)
    def me(self) -> None:
        self._call("GET", "/api/users/me", "/api/users/me")

    @task(2)
    def health(self) -> None:
        pet = random.choice(self.owner.pets) if self.owner.pets else None
        if pet is not None:
            self._call("GET", f"/api/pets/{pet}/weights", "/api/pets/[pet]/weights")
            self._call("GET", f"/api/pets/{pet}/vaccinations", "/api/pets/[pet]/vaccinations")

    @task(1)
    def add_weight(self) -> None:
        if not self.owner.pets:
            return
        day = date.today() - timedelta(days=self.owner.next_day)
        self.owner.next_day += 1
        body = {"weight_kg": round(random.uniform(3, 6), 2), "record_date": day.isoformat()}
        for pet in self.owner.pets:
            if self._call("POST", f"/api/pets/{pet}/weights", "/api/pets/[pet]/weights (create)", body) is not None:
                _counts["weights"] += 1

    def add_pet(self) -> None:
        if len(self.owner.pets) >= 5:
            return
        body = {"name": f"Pet {uuid.uuid4().hex[:6]}", "country": "VN"}
        created = self._call("POST", "/api/pets", "/api/pets (create)", body)
        if created is not None:
            self.owner.pets.append(created["id"])
            _counts["pets"] += 1

    @task(1)
    def maybe_add_pet(self) -> None:
        if random.random() < 0.2:
            self.add_pet()


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    report(
        environment,
        "pet_owners",
        _parsed(environment).max_failures,
        f"pets added {_counts['pets']}, weights {_counts['weights']}, daily-quota 429s {_counts['quota_429']}",
    )
