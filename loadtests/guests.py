"""Event guests under load: each simulated guest polls an event's stats and photo feed every few
seconds with validators, and now and then uploads a photo.

    locust -f loadtests/guests.py --headless -u 200 -r 50 -t 60s --host http://127.0.0.1:8000 \\
        [--event-token TOKEN] [--poll-interval 3] [--upload-share 0.01] [--moderation manual] \\
        [--max-failures 0] [--min-304-share 0.9] [--max-p99-ms 500] [--hosts http://a,http://b]

The target event
- `--event-token T`: an existing published event's guest token.
- Otherwise a setup step (on the master, before any guest starts) writes one straight into the
  PostgreSQL at DATABASE_URL (the server's database): a tenant on the `pro` package, a published
  event with `--moderation` (manual by default) and SEED_PHOTOS approved photos in its feed.

What a guest does (its own X-Device-Id; FastHttpUser, so 200 guests fit beside the server)
- GET /events/{token}/stats with If-None-Match of its last answer.
- GET /events/{token}/photos?since=<cursor> with If-None-Match; the cursor moves on only when a
  page is full (next_cursor), the way a gallery keeps its incremental query. A 304 is a success.
- With probability --upload-share per poll: POST upload-url -> PUT the bytes -> POST photos. Until
  those routes exist (404 route_not_found) uploads are skipped and reported, not failed. With
  `--moderation auto` every processed upload changes every guest's feed (no 304 for each guest's
  next poll of both); with `manual` they wait for the tenant, as at most hosted events.

At the end it prints the share of 304s among polls, failures and p50/p99, and exits non-zero
when failures exceed --max-failures, the 304 share is below --min-304-share or p99 is above
--max-p99-ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import random
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.roost_user import RoostUser, add_shared_options, error_code, is_mixed, selected  # noqa: E402

log = logging.getLogger("guests")

SEED_PHOTOS = 40
POLL_NAMES = ("stats", "photos")

_target: dict[str, Any] = {"token": None, "uploads_missing": False}
_counts = {"polls": 0, "not_modified": 0, "uploads": 0, "uploads_skipped": 0}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Roost guests")
    group.add_argument("--event-token", default="", help="guest token of a published event (else one is created)")
    group.add_argument("--moderation", choices=("manual", "auto"), default="manual",
                       help="moderation of the event the setup step creates")
    group.add_argument("--poll-interval", type=float, default=3.0, help="seconds between a guest's polls (±20%%)")
    group.add_argument("--upload-share", type=float, default=0.01, help="chance that a poll round also uploads")
    add_shared_options(group)
    group.add_argument("--min-304-share", type=float, default=0.0, help="exit non-zero below this share of 304s")
    group.add_argument("--max-p99-ms", type=float, default=0.0, help="exit non-zero above this p99 (0: no limit)")


async def _create_event(database_url: str, moderation: str) -> str:
    import asyncpg

    token = secrets.token_urlsafe(24)
    slug = f"locust-{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            tenant_id = await conn.fetchval(
                """insert into tenants (name, slug, package_id)
                   values ('Locust', $1, (select id from packages where slug = 'pro')) returning id""",
                slug,
            )
            event_id = await conn.fetchval(
                """insert into events (tenant_id, name, slug, status, moderation, guest_token, published_at,
                                       feed_version, photo_count)
                   values ($1, 'Locust party', $2, 'published', $3, $4, now(), $5, $6) returning id""",
                tenant_id, slug, moderation, token, SEED_PHOTOS, SEED_PHOTOS,
            )
            await conn.execute(
                """insert into photos (event_id, tenant_id, status, moderation, web_key, thumb_key, original_key,
                                       content_type, width, height, feed_seq, approved_at)
                   select $1, $2, 'ready', 'approved', $4 || '/' || g || '-seed/web.jpg',
                          $4 || '/' || g || '-seed/thumb.jpg', $4 || '/' || g || '-seed/original.jpg',
                          'image/jpeg', 1600, 1200, g, now() - interval '1 hour' + g * interval '1 second'
                   from generate_series(1, $3) g""",
                event_id, tenant_id, SEED_PHOTOS, str(event_id),
            )
    finally:
        await conn.close()
    return token


def _parsed(environment: Environment) -> argparse.Namespace:
    opts = environment.parsed_options
    if opts is None:  # set whenever the locust command runs this file, the one way it is run
        raise SystemExit("guests.py runs under the locust command")
    return opts


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    opts = _parsed(environment)
    if not selected(environment, Guest):
        return
    if opts.event_token:
        _target["token"] = opts.event_token
        return
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("guests.py: pass --event-token or set DATABASE_URL for the setup step")
    _target["token"] = asyncio.run(_create_event(database_url, opts.moderation))
    log.info("created event with guest token %s", _target["token"])


@events.request.add_listener
def _count(request_type: str, name: str, response: Any = None, exception: Any = None, **_: Any) -> None:
    if name in POLL_NAMES and exception is None and response is not None:
        _counts["polls"] += 1
        if response.status_code == 304:
            _counts["not_modified"] += 1


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (random.randrange(256), 90, 160)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


class Guest(RoostUser):
    kind = "guests"

    def wait_time(self) -> float:
        """The poll interval (an option), jittered by 20% so the guests do not poll in step."""
        return random.uniform(0.8 * self.interval, 1.2 * self.interval)

    def on_start(self) -> None:
        self.interval = _parsed(self.environment).poll_interval
        self.device = f"locust-{uuid.uuid4().hex}"
        self.token = _target["token"]
        self.stats_etag: str | None = None
        self.since = ""
        self.photos_etag: str | None = None
        self.photo = _jpeg()

    def _headers(self, etag: str | None) -> dict[str, str]:
        headers = {"X-Device-Id": self.device}
        if etag:
            headers["If-None-Match"] = etag
        return headers

    @task
    def poll(self) -> None:
        base = f"/api/v1/events/{self.token}"
        with self.client.get(f"{base}/stats", headers=self._headers(self.stats_etag), name="stats",
                             catch_response=True) as resp:
            if resp.status_code == 200:
                self.stats_etag = resp.headers.get("ETag")
            elif resp.status_code != 304:
                resp.failure(f"stats {resp.status_code}")
        url = f"{base}/photos" + (f"?since={self.since}" if self.since else "")
        with self.client.get(url, headers=self._headers(self.photos_etag), name="photos",
                             catch_response=True) as resp:
            if resp.status_code == 200:
                body = resp.json()
                if body.get("next_cursor"):
                    self.since, self.photos_etag = body["next_cursor"], None
                else:
                    self.photos_etag = resp.headers.get("ETag")
            elif resp.status_code != 304:
                resp.failure(f"photos {resp.status_code}")
        if random.random() < _parsed(self.environment).upload_share:
            self.upload(base)

    def upload(self, base: str) -> None:
        if _target["uploads_missing"]:
            _counts["uploads_skipped"] += 1
            return
        headers = {"X-Device-Id": self.device}
        with self.client.post(f"{base}/photos/upload-url", json={"content_type": "image/jpeg", "size": len(self.photo)},
                              headers=headers, name="upload-url", catch_response=True) as resp:
            if resp.status_code == 404 and error_code(resp) == "route_not_found":
                resp.success()  # the upload routes are not built yet: skip, do not fail
                _target["uploads_missing"] = True
                _counts["uploads_skipped"] += 1
                return
            if resp.status_code != 201:
                resp.failure(f"upload-url {resp.status_code}")
                return
            data = resp.json()["data"]
        target = urlsplit(data["upload_url"])  # the path and signature; our host, whatever APP_URL says
        with self.client.put(
            f"{target.path}?{target.query}",
            # locust's annotation leaves out the bytes its docstring and its code accept
            data=self.photo,  # type: ignore[arg-type]
            headers={"Content-Type": "image/jpeg"},
            name="upload-put",
            catch_response=True,
        ) as resp:
            if resp.status_code >= 300:
                resp.failure(f"upload-put {resp.status_code}")
                return
        with self.client.post(f"{base}/photos", json={"upload_id": data["upload_id"]}, headers=headers,
                              name="photo-create", catch_response=True) as resp:
            if resp.status_code != 201:
                resp.failure(f"photo-create {resp.status_code}")
                return
        _counts["uploads"] += 1


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    opts = _parsed(environment)
    total = environment.stats.total
    share = _counts["not_modified"] / _counts["polls"] if _counts["polls"] else 0.0
    if is_mixed():  # mixed.py reports and judges the totals
        print(
            f"guests: {_counts['polls']} polls of which {share:.1%} were 304; uploads {_counts['uploads']} done, "
            f"{_counts['uploads_skipped']} skipped",
            file=sys.stderr,
        )
        return
    p50 = total.get_response_time_percentile(0.5) or 0.0
    p99 = total.get_response_time_percentile(0.99) or 0.0
    print(
        f"guests: {total.num_requests} requests, {total.num_failures} failures, "
        f"{_counts['polls']} polls of which {share:.1%} were 304, p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
        f"{total.total_rps:.0f} req/s; uploads {_counts['uploads']} done, {_counts['uploads_skipped']} skipped",
        file=sys.stderr,
    )
    problems = []
    if total.num_failures > opts.max_failures:
        problems.append(f"{total.num_failures} failures > {opts.max_failures}")
    if share < opts.min_304_share:
        problems.append(f"304 share {share:.1%} < {opts.min_304_share:.0%}")
    if opts.max_p99_ms and p99 > opts.max_p99_ms:
        problems.append(f"p99 {p99:.0f} ms > {opts.max_p99_ms:.0f} ms")
    if problems:
        print("guests: FAILED: " + "; ".join(problems), file=sys.stderr)
        environment.process_exit_code = 1
