"""Families under load (002): several members per group logging meals for the group's pets and
reading today's totals and the week's summary, with a read-your-writes check on every read.

    locust -f loadtests/families.py --headless -u 30 -r 10 -t 60s --host http://127.0.0.1:8000 \\
        [--families 10] [--members 3] [--pets 2] [--think 2] [--max-failures 0] [--hosts http://a,http://b]

The families: a setup step (on the master, before any user starts) registers `--families` x
`--members` accounts straight into the PostgreSQL at DATABASE_URL (the server's database, through
Roost's own account code) and signs a JWT for each as 002's sign-in does, with the server's
APP_KEY (from the environment or the checkout's .env): 002 allows 5 registrations an hour and 10
sign-ins a minute per address, far fewer than a run needs. The rest goes through 002's routes as
a family would: each family's first member creates a group, a food in it and `--pets` pets
(moved into the group), and invites the others, who join with the codes.

What a member does (one family member per Locust user, round robin; FastHttpUser)
- log a meal (POST /meals) for one of the family's pets, by grams or units, with a meal type;
- read that pet's day (GET /meals/today?pet_id=) and the group's (?group_id=): each answer must
  hold every meal this user logged that day and has not deleted (the writing gateway's
  read-your-writes, actors/meal_aggregate_client.py), else it is a failure;
- now and then correct one of its meals (POST /meals/{id}/update) or delete one;
- read the last seven days' summary (GET /meals/summary?group_id=&date_from=&date_to=).
Every answer but a 200 is a failure; 0 are expected.

Rate limits: 002 allows 1000 requests per user per hour. At the default think time a member sends
about 1300 an hour, so keep runs under about 40 minutes or start the server with
THROTTLE_PETCARE_PER_HOUR raised (as loadtests/services.py does for the benchmarks).

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
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from locust import events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.locust_report import report  # noqa: E402
from loadtests.roost_user import RoostUser, add_shared_options, first_host, selected  # noqa: E402

log = logging.getLogger("families")

PASSWORD = "locust-family-1"
MEAL_TYPES = ("breakfast", "lunch", "dinner", "snack")


@dataclass
class Member:
    email: str
    token: str = ""
    user_id: str = ""


@dataclass
class Family:
    group_id: str = ""
    food_id: str = ""
    pet_ids: list[str] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)


_families: list[Family] = []
_next = {"member": 0}
_counts = {"logged": 0, "deleted": 0, "updated": 0, "today_reads": 0, "summaries": 0}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Roost families")
    group.add_argument("--families", type=int, default=10, help="groups to create")
    group.add_argument("--members", type=int, default=3, help="members per group (the first creates it)")
    group.add_argument("--pets", type=int, default=2, help="pets per group")
    add_shared_options(group)


def _parsed(environment: Environment) -> argparse.Namespace:
    opts = environment.parsed_options
    if opts is None:  # set whenever the locust command runs this file, the one way it is run
        raise SystemExit("families.py runs under the locust command")
    return opts


async def _register(database_url: str, members: list[Member]) -> None:
    """The accounts (each with its personal group), through the code every contract registers
    with, and a JWT for each, signed as 002's sign-in signs them (APP_KEY from the server's
    environment or .env): 002 allows 10 sign-ins a minute per address, fewer than a run needs."""
    from domain.accounts import Accounts
    from domain.passwords import PasswordHashing, prehash
    from domain.settings import Settings
    from storage.pool import create_pool

    settings = Settings()

    class NoRevocations:
        async def tokens_revoked(self, token_hashes: list[str]) -> None:
            return None

        async def user_changed(self, user_id: int) -> None:
            return None

    pool = await create_pool(database_url, min_size=1, max_size=2)
    # cheap hashes for made-up accounts: the sign-ins below verify them, the server never rehashes
    hashing = PasswordHashing(time_cost=1, memory_kib=8192, max_concurrent=1)
    try:
        accounts = Accounts(pool, hashing, NoRevocations(), app_key=settings.app_key, jwt_ttl_s=settings.jwt_ttl_s)
        for member in members:
            user = await accounts.register(email=member.email, password_hex=prehash(PASSWORD),
                                           name=member.email.split("@")[0])
            member.token, member.user_id = accounts.issue_jwt(user), str(user["id"])
    finally:
        hashing.close()
        await pool.close()


async def _build(host: str, opts: argparse.Namespace) -> list[Family]:
    import aiohttp

    run = uuid.uuid4().hex[:6]
    families = [
        Family(members=[Member(f"fam{run}-{f}-m{m}@example.test") for m in range(opts.members)])
        for f in range(opts.families)
    ]
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("families.py: set DATABASE_URL (the server's database) for the setup step")
    await _register(database_url, [m for fam in families for m in fam.members])

    async with aiohttp.ClientSession(base_url=host) as http:

        async def call(method: str, path: str, who: Member | None, body: dict | None = None) -> Any:
            headers = {"Authorization": f"Bearer {who.token}"} if who else {}
            async with http.request(method, path, json=body, headers=headers) as resp:
                answer = await resp.json()
                if resp.status != 200:
                    raise SystemExit(f"families.py setup: {method} {path} answered {resp.status}: {answer}")
                return answer["data"]

        for fam in families:
            creator = fam.members[0]
            fam.group_id = (await call("POST", "/groups/create", creator, {"name": f"Family {run}"}))["id"]
            food = await call("POST", f"/foods/create?group_id={fam.group_id}", creator, {
                "brand": "Royal Canin", "product_name": "Persian Adult", "food_type": "dry_food", "target_pet": "cat",
                "unit_weight_g": 10.0, "calories_per_100g": 380, "protein_percentage": 30.0, "fat_percentage": 18.0,
                "moisture_percentage": 8.0, "carbohydrate_percentage": 44.0,
            })
            fam.food_id = food["id"]
            for p in range(opts.pets):
                pet = await call("POST", "/pets/create", creator,
                                 {"name": f"Pet {p}", "pet_type": "cat", "daily_calorie_target": 300})
                await call("POST", f"/pets/{pet['id']}/assign_group", creator, {"group_id": fam.group_id})
                fam.pet_ids.append(pet["id"])
            for member in fam.members[1:]:
                code = (await call("POST", f"/groups/{fam.group_id}/invite", creator))["invite_code"]
                await call("POST", "/groups/join", member, {"invite_code": code})
    return families


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    opts = _parsed(environment)
    if not selected(environment, FamilyMember):
        return
    host = first_host(environment)  # the groups are in PostgreSQL: any gateway's are every one's
    if host is None:
        raise SystemExit("families.py: pass --host or --hosts")
    _families.extend(asyncio.run(_build(host, opts)))
    log.info("created %d families of %d members", len(_families), opts.members)


class FamilyMember(RoostUser):
    kind = "families"
    default_think = 2.0

    def on_start(self) -> None:
        n = _next["member"]
        _next["member"] += 1
        self.family = _families[n % len(_families)]
        self.me = self.family.members[(n // len(_families)) % len(self.family.members)]
        self.headers = {"Authorization": f"Bearer {self.me.token}"}
        # the meals this user logged and still has, per pet: (id, the day the server put it on)
        self.mine: dict[str, list[str]] = {pet: [] for pet in self.family.pet_ids}
        self.day: str | None = None

    def _new_day(self, day: str) -> bool:
        """Whether `day` (a today answer's) starts a new day: yesterday's meals are not today's."""
        if self.day == day:
            return False
        first, self.day = self.day is None, day
        if first:
            return False
        for meals in self.mine.values():
            meals.clear()
        return True

    @task(4)
    def log_meal(self) -> None:
        pet = random.choice(self.family.pet_ids)
        units = random.random() < 0.5
        body = {
            "pet_id": pet, "food_id": self.family.food_id, "meal_type": random.choice(MEAL_TYPES),
            "serving_type": "units" if units else "grams",
            "serving_amount": random.randint(1, 8) if units else random.randint(10, 120),
        }
        with self.client.post("/meals", json=body, headers=self.headers, name="POST /meals",
                              catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"log {resp.status_code}: {resp.text[:200]}")
                return
            self.mine[pet].append(resp.json()["data"]["id"])
            _counts["logged"] += 1
        self.read_today(pet)

    @task(4)
    def read_today(self, pet: str | None = None) -> None:
        pet = pet or random.choice(self.family.pet_ids)
        for params, name, expected in (
            (f"pet_id={pet}", "GET /meals/today?pet_id", set(self.mine[pet])),
            (f"group_id={self.family.group_id}", "GET /meals/today?group_id",
             {m for meals in self.mine.values() for m in meals}),
        ):
            with self.client.get(f"/meals/today?{params}", headers=self.headers, name=name,
                                 catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"today {resp.status_code}: {resp.text[:200]}")
                    continue
                data = resp.json()["data"]
                if self._new_day(data["date"]):
                    continue
                seen = {m["id"] for m in data["meals"]}
                missing = expected - seen
                if missing or data["meals_count"] != len(data["meals"]):
                    resp.failure(f"today misses this user's meals {sorted(missing)[:5]}")
                _counts["today_reads"] += 1

    @task(1)
    def correct_a_meal(self) -> None:
        pet = random.choice(self.family.pet_ids)
        if not self.mine[pet]:
            return
        meal = random.choice(self.mine[pet])
        if random.random() < 0.5:
            with self.client.post(f"/meals/{meal}/update", json={"serving_amount": random.randint(5, 50)},
                                  headers=self.headers, name="POST /meals/{id}/update", catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"update {resp.status_code}: {resp.text[:200]}")
                    return
                _counts["updated"] += 1
        else:
            with self.client.post(f"/meals/{meal}/delete", headers=self.headers, name="POST /meals/{id}/delete",
                                  catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"delete {resp.status_code}: {resp.text[:200]}")
                    return
                self.mine[pet].remove(meal)
                _counts["deleted"] += 1
        self.read_today(pet)

    @task(1)
    def summary(self) -> None:
        last = date.fromisoformat(self.day) if self.day else date.today()
        params = f"group_id={self.family.group_id}&date_from={last - timedelta(days=6)}&date_to={last}"
        with self.client.get(f"/meals/summary?{params}", headers=self.headers, name="GET /meals/summary",
                             catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"summary {resp.status_code}: {resp.text[:200]}")
                return
            _counts["summaries"] += 1


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    report(
        environment,
        "families",
        _parsed(environment).max_failures,
        f"meals logged {_counts['logged']}, updated {_counts['updated']}, deleted {_counts['deleted']}; "
        f"today reads {_counts['today_reads']}, summaries {_counts['summaries']}",
    )
