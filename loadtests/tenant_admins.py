"""Tenant admins moderating under load (001): signed in through the tenant app's login, they list
their events, work through the review queue (approve or reject), feature photos and read the
ledger.

    locust -f loadtests/tenant_admins.py --headless -u 4 -r 4 -t 60s --host http://127.0.0.1:8000 \\
        [--tenants 2] [--admins 2] [--tenant-events 3] [--review-photos 40] [--think 1] \\
        [--max-failures 0] [--hosts http://a,http://b]

The tenants: a setup step (on the master, before any user starts) writes them straight into the
PostgreSQL at DATABASE_URL (the server's database): `--tenants` tenants on the `pro` package,
each made as `roost tenants create` makes one (domain/tenants.py: the owner account and the link
in one transaction) plus `--admins` - 1 more admins, `--tenant-events` published events with
manual moderation each holding `--review-photos` processed photos waiting for a decision, and a
few ledger entries (credit purchases, through domain/ledger.py).

What an admin does (one account per Locust user, round robin; FastHttpUser)
- on start, POST /api/v1/tenant-auth/login with email and password, as the tenant app does. The
  sign-in throttle (10 a minute per address, all users share 127.0.0.1) is left on: its 429 is
  deliberate, counted, and the login retried after Retry-After;
- GET /tenant/events; GET /tenant-auth/me; GET /tenant/ledger; GET /tenant/settings (a Roost
  without that route answers 404 `route_not_found`: then settings reads are skipped, not failed);
- review: GET an event's `?status=unmoderated` page and approve (3 in 4) or reject one photo;
  once the queue is empty, revisit decisions (reject an approved photo, approve a rejected one);
- feature: GET an event's `?status=approved` page and feature or unfeature one photo.
Admins of one tenant share its queue, so two may decide the same photo at once: both answers are
200 (a decision is allowed to change), which is what the document asks. Every answer but 200 is a
failure; 0 are expected.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.locust_report import report  # noqa: E402
from loadtests.roost_user import RoostUser, add_shared_options, error_code, selected  # noqa: E402

log = logging.getLogger("tenant_admins")

PASSWORD = "locust-tenant-1"
LEDGER_ENTRIES = 5
LOGIN_ATTEMPTS = 20
BASE = "/api/v1"


@dataclass
class Tenant:
    tenant_id: int = 0
    admins: list[str] = field(default_factory=list)  # emails
    event_ids: list[int] = field(default_factory=list)


_tenants: list[Tenant] = []
_next = {"i": 0}
_counts = {"logins": 0, "login_429": 0, "approved": 0, "rejected": 0, "featured": 0, "revisited": 0, "ledger": 0,
           "settings": 0}
_settings_route = {"missing": False}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Roost tenant admins")
    group.add_argument("--tenants", type=int, default=2, help="tenants created for the run")
    group.add_argument("--admins", type=int, default=2, help="admins per tenant (the first is its owner)")
    group.add_argument("--tenant-events", type=int, default=3, help="published events per tenant")
    group.add_argument("--review-photos", type=int, default=40, help="photos waiting for a decision per event")
    add_shared_options(group)


def _parsed(environment: Environment) -> argparse.Namespace:
    opts = environment.parsed_options
    if opts is None:  # set whenever the locust command runs this file, the one way it is run
        raise SystemExit("tenant_admins.py runs under the locust command")
    return opts


async def _seed_tenant(accounts: Any, run: str, n: int, opts: argparse.Namespace) -> Tenant:
    from domain.ledger import EntryType, Posting, post
    from domain.passwords import prehash
    from domain.tenants import create_tenant
    from storage import tenants as tenants_sql

    emails = [f"locust-tenant-{run}-{n}-a{a}@example.test" for a in range(opts.admins)]
    created = await create_tenant(
        accounts, name=f"Locust tenant {run} {n}", package="pro", admin_email=emails[0],
        admin_password_hex=prehash(PASSWORD),
    )
    tenant = Tenant(tenant_id=created.tenant["id"], admins=emails)
    for email in emails[1:]:
        user = await accounts.register(email=email, password_hex=prehash(PASSWORD), name=email.split("@")[0])
        async with accounts.pool.acquire() as conn:
            await tenants_sql.add_admin(conn, tenant.tenant_id, user["id"])
    async with accounts.pool.acquire() as conn, conn.transaction():
        for e in range(opts.tenant_events):
            event_id = await conn.fetchval(
                """insert into events (tenant_id, name, slug, status, moderation, guest_token, published_at,
                                       photo_count)
                   values ($1, $2, $3, 'published', 'manual', $4, now(), $5) returning id""",
                tenant.tenant_id, f"Locust review {e}", f"locust-review-{run}-{n}-{e}", uuid.uuid4().hex,
                opts.review_photos,
            )
            # processed, waiting for a decision: the review queue (`?status=unmoderated`)
            await conn.execute(
                """insert into photos (event_id, tenant_id, status, moderation, web_key, thumb_key, original_key,
                                       content_type, width, height, size_bytes, device_id)
                   select $1, $2, 'ready', 'pending', $4 || '/' || g || '-seed/web.jpg',
                          $4 || '/' || g || '-seed/thumb.jpg', $4 || '/' || g || '-seed/original.jpg',
                          'image/jpeg', 1600, 1200, 200000, 'locust-seed'
                   from generate_series(1, $3) g""",
                event_id, tenant.tenant_id, opts.review_photos, str(event_id),
            )
            tenant.event_ids.append(event_id)
        now = datetime.now(UTC)
        for i in range(LEDGER_ENTRIES):
            await post(conn, tenant.tenant_id, Posting(
                type=EntryType.PURCHASE, source=f"locust:{run}:{n}:{i}", occurred_at=now - timedelta(days=i),
                credits=100, amount_cents=499, currency="USD", description="Locust credits",
            ))
    return tenant


async def _seed(database_url: str, opts: argparse.Namespace) -> list[Tenant]:
    from loadtests.seeding import seeding_accounts

    run = uuid.uuid4().hex[:8]
    async with seeding_accounts(database_url) as accounts:
        return [await _seed_tenant(accounts, run, n, opts) for n in range(opts.tenants)]


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    opts = _parsed(environment)
    if not selected(environment, TenantAdmin):
        return
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("tenant_admins.py: set DATABASE_URL (the server's database) for the setup step")
    _tenants[:] = asyncio.run(_seed(database_url, opts))
    log.info("created %d tenants with %d events of %d photos each", len(_tenants), opts.tenant_events,
             opts.review_photos)


class TenantAdmin(RoostUser):
    kind = "tenant_admins"
    default_think = 1.0

    def on_start(self) -> None:
        n = _next["i"]
        _next["i"] += 1
        self.tenant = _tenants[n % len(_tenants)]
        self.email = self.tenant.admins[(n // len(_tenants)) % len(self.tenant.admins)]
        self.headers: dict[str, str] = {"Accept": "application/json"}
        self.login()

    def login(self) -> None:
        body = {"email": self.email, "password": PASSWORD}
        for _ in range(LOGIN_ATTEMPTS):
            with self.client.post(f"{BASE}/tenant-auth/login", json=body, name="POST /tenant-auth/login",
                                  catch_response=True) as resp:
                if resp.status_code == 429:
                    _counts["login_429"] += 1  # deliberate: the sign-in throttle, left on
                    resp.success()
                    wait = float(resp.headers.get("Retry-After") or 5)
                elif resp.status_code == 200:
                    self.headers["Authorization"] = f"Bearer {resp.json()['data']['token']}"
                    _counts["logins"] += 1
                    return
                else:
                    resp.failure(f"login {resp.status_code}: {(resp.text or '')[:200]}")
                    wait = 5.0
            time.sleep(min(wait, 30.0) + random.random())
        raise RuntimeError(f"{self.email} could not sign in after {LOGIN_ATTEMPTS} attempts")

    def _call(self, method: str, path: str, name: str, body: dict | None = None) -> Any:
        with self.client.request(method, BASE + path, json=body, headers=self.headers, name=name,
                                 catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"answered {resp.status_code}: {(resp.text or '')[:200]}")
                return None
            return resp.json()

    def _photos(self, event_id: int, status: str) -> list[dict]:
        page = self._call("GET", f"/tenant/events/{event_id}/photos?status={status}&per_page=20",
                          f"GET /tenant/events/[id]/photos?status={status}")
        return page["data"] if page is not None else []

    @task(2)
    def list_events(self) -> None:
        self._call("GET", "/tenant/events", "GET /tenant/events")

    @task(1)
    def me(self) -> None:
        self._call("GET", "/tenant-auth/me", "GET /tenant-auth/me")

    @task(1)
    def ledger(self) -> None:
        if self._call("GET", "/tenant/ledger", "GET /tenant/ledger") is not None:
            _counts["ledger"] += 1

    @task(1)
    def settings(self) -> None:
        if _settings_route["missing"]:
            return
        with self.client.get(f"{BASE}/tenant/settings", headers=self.headers, name="GET /tenant/settings",
                             catch_response=True) as resp:
            if resp.status_code == 404 and error_code(resp) == "route_not_found":
                resp.success()  # an older Roost: skip, do not fail
                _settings_route["missing"] = True
            elif resp.status_code != 200:
                resp.failure(f"answered {resp.status_code}: {(resp.text or '')[:200]}")
            else:
                _counts["settings"] += 1

    @task(5)
    def review(self) -> None:
        event_id = random.choice(self.tenant.event_ids)
        queue = self._photos(event_id, "unmoderated")
        if queue:
            action = "approve" if random.random() < 0.75 else "reject"
        else:  # the queue is done: revisit a decision
            action = random.choice(("approve", "reject"))
            queue = self._photos(event_id, "rejected" if action == "approve" else "approved")
            if not queue:
                return
            _counts["revisited"] += 1
        photo = random.choice(queue)
        answer = self._call("POST", f"/tenant/photos/{photo['id']}/{action}", f"POST /tenant/photos/[id]/{action}")
        if answer is not None:
            _counts["approved" if action == "approve" else "rejected"] += 1

    @task(2)
    def feature(self) -> None:
        approved = self._photos(random.choice(self.tenant.event_ids), "approved")
        if not approved:
            return
        photo = random.choice(approved)
        body = {"featured": not photo["is_featured"]}
        if self._call("POST", f"/tenant/photos/{photo['id']}/feature", "POST /tenant/photos/[id]/feature",
                      body) is not None:
            _counts["featured"] += 1


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    report(
        environment,
        "tenant_admins",
        _parsed(environment).max_failures,
        f"logins {_counts['logins']} (+{_counts['login_429']} deliberate 429s), approved {_counts['approved']}, "
        f"rejected {_counts['rejected']} ({_counts['revisited']} revisited), featured {_counts['featured']}, "
        f"ledger reads {_counts['ledger']}, settings reads {_counts['settings']}",
    )
