"""schemathesis over every documented operation of the four OpenAPI documents, against the real
app (issue 11, build item 5): no 5xx, no status the operation does not document, no body outside
its schema, no content type the operation does not document.

Opt-in (`make schemathesis`, which `.ci/run` runs after the suite): it takes a few minutes, so
`make test` skips it. A pytest test rather than `schemathesis run` against `roost serve`, because
every security scheme's credential and the objects behind the path ids are made the way the
contract tests make them (tests/openapi/fuzz_world.py: the domain builders and the real login
endpoints) on the session's PostgreSQL, Redis and Ray (embedded ones when DATABASE_URL/REDIS_URL
are unset), and the operations that spend their caller's credentials (logout, account deletion)
get a new caller for each case, which needs the app at hand. aiohttp's test server serves the app
on the session's loop while schemathesis' engine runs in a worker thread and sends it real HTTP.

Bounded and reproducible: a fixed seed, derandomized generation, at most MAX_EXAMPLES generated
cases per operation in each generating phase, no example database, a request timeout, and a
wall-clock ceiling (BUDGET_S) past which the run stops and fails. Operations still marked
`x-undocumented` are left out; they join as their contracts are documented.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from domain import system_settings
from domain.settings import Settings
from tests.ai_fakes import ai_settings
from tests.oauth_fakes import settings_for
from tests.openapi.fuzz_world import Caller, World, fresh_caller, seed_world
from tests.pethealth.gpt_helpers import CONNECTOR_KEY, connector_settings

pytestmark = pytest.mark.skipif(
    not os.environ.get("ROOST_SCHEMATHESIS"),
    reason="a few minutes long: run by `make schemathesis` (and .ci/run), or with ROOST_SCHEMATHESIS=1",
)

SEED = 11
# generated cases per operation in each generating phase (fuzzing; stateful scenarios); the
# coverage phase adds its own deterministic cases (boundaries, each constraint broken) on top
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
# the whole run's ceiling: CI's whole run must stay well under 30 minutes
BUDGET_S = float(os.environ.get("SCHEMATHESIS_BUDGET_S", "300"))
REQUEST_TIMEOUT_S = 15
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
QUOTA = "api_daily_quota_regular"

# Security scheme name (as the documents name them) -> the credential it carries. Where it goes
# (Authorization: Bearer, a header, a cookie) is read from the scheme itself. A document that
# declares a scheme missing here fails the run, so a new scheme gets wired.
CREDENTIALS: dict[str, Callable[[World, Caller], str | None]] = {
    "pat": lambda world, caller: caller.pat,
    "jwt": lambda world, caller: caller.jwt,
    "oauth2": lambda world, caller: caller.jwt,  # 002's password flow yields the same JWT
    "session": lambda world, caller: caller.session,
    "xsrf": lambda world, caller: caller.xsrf,
    "api_token": lambda world, caller: caller.pat,  # 003's OAuth cookie holds a PAT
    # a tenant-app token; any PAT of the account works the same (the super admin administers none)
    "tenant": lambda world, caller: caller.tenant or caller.pat,
    "device": lambda world, caller: world.device_id,
    "api_key": lambda world, caller: world.api_key,
    "api_key_bearer": lambda world, caller: world.api_key,
    "connector": lambda world, caller: CONNECTOR_KEY,  # 000's GPT connector (exchange, revoke)
}

# Operations that spend the credentials they are called with: each case gets a new caller, so
# the rest of the run keeps a signed-in owner. (document, METHOD, path)
SPENDS_CALLER = {
    ("accounts", "POST", "/auth/logout"),
    ("accounts", "DELETE", "/user"),
    ("accounts", "POST", "/auth/password/change"),
    ("accounts", "POST", "/auth/unlink"),
    ("pethealth", "POST", "/gpt-auth/revoke"),
    ("events", "POST", "/tenant-auth/logout"),
    ("petcare", "POST", "/user/reset_password"),
}


@dataclass
class Tally:
    """What one document's run did, for the report."""

    document: str
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    by_phase: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (operation, check, title) -> detail
    errors: list[str] = field(default_factory=list)
    links: str = "none"
    minted: int = 0  # callers made for the operations in SPENDS_CALLER
    by_operation: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, status) -> answers


class Credentials:
    """Puts one security requirement of the operation on each case, taking the alternatives the
    operation lists in turn (an optional one's `{}` included: then the case goes anonymous)."""

    def __init__(self, document: str, schemes: dict[str, Any], world: World, mint: Callable[[], Caller]) -> None:
        unknown = sorted(set(schemes) - set(CREDENTIALS))
        assert not unknown, f"{document}: security schemes with no credential in CREDENTIALS: {unknown}"
        self.document, self.schemes, self.world, self.mint = document, schemes, world, mint
        self._turns: dict[str, Iterator[dict[str, list[str]]]] = {}
        self.minted = 0

    def caller_for(self, method: str, path: str) -> Caller:
        if (self.document, method, path) in SPENDS_CALLER:
            self.minted += 1
            return self.mint()
        if self.document == "events" and path.startswith("/tenants"):
            return self.world.admin  # 001's super-admin reads
        return self.world.owner

    def get(self, case: Any, context: Any) -> tuple[dict[str, list[str]], Caller] | None:
        operation = case.operation
        requirements = operation.definition.raw.get("security") or []
        if not requirements:
            return None
        method = operation.method.upper()
        turn = self._turns.setdefault(f"{method} {operation.path}", itertools.cycle(requirements))
        return next(turn), self.caller_for(method, operation.path)

    def set(self, case: Any, data: tuple[dict[str, list[str]], Caller], context: Any) -> None:
        requirement, caller = data
        for name in requirement:
            value = CREDENTIALS[name](self.world, caller)
            if value is None:
                continue
            scheme = self.schemes[name]
            if scheme["type"] in ("http", "oauth2"):
                case.headers["Authorization"] = f"Bearer {value}"
            elif scheme["in"] == "header":
                case.headers[scheme["name"]] = value
            elif scheme["in"] == "cookie":
                case.cookies[scheme["name"]] = value
            else:
                case.query[scheme["name"]] = value

    def provider(self) -> type:
        """schemathesis makes its auth provider with no arguments: a class bound to this one."""
        credentials = self

        class Provider:
            def get(self, case: Any, context: Any) -> Any:
                return credentials.get(case, context)

            def set(self, case: Any, data: Any, context: Any) -> None:
                credentials.set(case, data, context)

        return Provider


def real_ids_hook(document: str, world: World) -> Callable[[Any, Any], Any]:
    """Path ids hit real objects most of the time: two cases in three of an operation get the
    seeded objects' ids (tests/openapi/fuzz_world.py) for the path parameters it did not set out
    to break, so a fair share of cases reach the handlers instead of stopping at a 404. A
    `map_case` hook, since the coverage phase (most of the cases) applies only case hooks."""
    from schemathesis.core.parameters import ParameterLocation
    from schemathesis.generation.meta import negated_parameters

    turns: Counter[str] = Counter()

    def map_case(context: Any, case: Any) -> Any:
        if not case.path_parameters:
            return case
        path = case.operation.path
        turn = turns[path]
        turns[path] += 1
        if turn % 3 == 2:
            return case
        # case._meta: reading case.meta would revalidate a case that is not settled yet
        broken = {name for name, where in negated_parameters(case._meta) if where == ParameterLocation.PATH}
        for name in case.path_parameters:
            values = world.real_values(document, case.operation.method.upper(), path, name)
            if values and name not in broken:
                case.path_parameters[name] = values[turn % len(values)]
        return case

    return map_case


def _config(base_url: str) -> Any:
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # hypothesis' checks on the generator, not on the API: a plain string path id has no
            # negative form to filter for, and a loaded CI machine generates slowly
            "suppress-health-check": ["filter_too_much", "too_slow"],
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "request-timeout": REQUEST_TIMEOUT_S,
            "base-url": base_url,
            # the credentials are ours; no signing up on its own
            "auth": {"auto-signup": False},
            # throwaway credentials: the report shows which one a failing request carried
            "output": {"sanitization": {"enabled": False}},
            # no state carried from one run to the next (a .schemathesis/ cache in the checkout):
            # each run sends exactly what the seed says
            "cache": {"enabled": False},
        }
    )


def _clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _record(tally: Tally, event: Any) -> None:
    from schemathesis.engine import Status

    recorder = event.recorder
    if event.phase.value != "stateful":
        tally.operations.add(recorder.label)
    tally.by_phase[event.phase.value] += len(recorder.interactions)
    for interaction in recorder.interactions.values():
        tally.requests += 1
        if interaction.response is not None:
            tally.statuses[interaction.response.status_code] += 1
            tally.by_operation[(recorder.label, interaction.response.status_code)] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (recorder.label, check.name, failure.title)
            if key in tally.failures:
                continue
            response = recorder.find_response(case_id=case_id)
            answer = ""
            if response is not None:
                answer = f"\n    answered {response.status_code}: " + (response.content or b"")[:400].decode(
                    "utf-8", "replace"
                )
            code = _clip(check.failure_info.code_sample.strip())
            tally.failures[key] = f"{failure.message.strip()}\n    {code}{answer}"


def run_document(document: str, base: str, published: Any, world: World, mint: Callable[[], Caller],
                 deadline: float) -> Tally:
    import schemathesis
    from schemathesis.engine import events, from_schema

    tally = Tally(document)
    doc = published.document
    schema = schemathesis.openapi.from_url(
        base + published.path, config=_config(base + doc["servers"][0]["url"].rstrip("/"))
    )
    schema = schema.exclude(func=lambda ctx: bool(ctx.operation.definition.raw.get("x-undocumented")))
    credentials = Credentials(document, doc.get("components", {}).get("securitySchemes", {}), world, mint)
    schema.auth(refresh_interval=None)(credentials.provider())
    schema.hook(real_ids_hook(document, world))
    stream = from_schema(schema).execute()
    for event in stream:
        if time.monotonic() > deadline:
            stream.stop()
            tally.errors.append(f"stopped: the run's budget of {BUDGET_S:.0f} s is spent")
            break
        if isinstance(event, events.PhaseStarted) and event.payload is not None:
            p = event.payload
            tally.links = f"{p.transitions_selected} of {p.transitions_total} ({p.inferred_transitions} inferred)"
        elif isinstance(event, events.ScenarioFinished):
            _record(tally, event)
        elif isinstance(event, events.NonFatalError):
            where = "".join(traceback.format_exception(event.value)[-3:])
            tally.errors.append(f"{event.label}: {event.info.title}: {event.info.message}\n{where}")
        elif isinstance(event, events.FatalError):
            tally.errors.append(f"fatal: {event.exception!r}")
    tally.minted = credentials.minted
    return tally


def report(tallies: list[Tally], elapsed: float) -> str:
    kinds = Counter(check for t in tallies for (_, check, _) in t.failures)
    lines = [f"schemathesis: seed {SEED}, max examples {MAX_EXAMPLES}, {elapsed:.0f} s:"]
    for t in tallies:
        lines.append(
            f"  {t.document}: {len(t.operations)} operations, {t.requests} requests {dict(t.by_phase)},"
            f" statuses {dict(sorted(t.statuses.items()))}, stateful links {t.links}, {t.minted} callers spent,"
            f" {len(t.failures)} failures"
        )
    lines.append(
        f"  total: {sum(len(t.operations) for t in tallies)} operations, {sum(t.requests for t in tallies)} requests,"
        f" {sum(len(t.failures) for t in tallies)} failures {dict(kinds)}"
    )
    for t in tallies:
        for (label, check, title), detail in sorted(t.failures.items()):
            lines.append(f"  FAIL {t.document} {label} [{check}] {title}: {detail}")
        lines.extend(f"  ERROR {t.document}: {error}" for error in t.errors)
    return "\n".join(lines)


@pytest.fixture
async def fuzz_client(
    aiohttp_client, settings: Settings, pool: asyncpg.Pool, ray_session, fake_google, fake_github, fake_ai
):
    """The whole app, configured as in production: the OAuth providers (the local fakes) and the
    GPT connector are set, so their routes answer rather than 503 "not configured". The /api
    limits are out of the way: thousands of requests from one owner would otherwise end at the
    minute throttles and the daily quota (both still run on every request). The quota is a
    runtime setting, so it is raised in the database, and put back, around the app."""
    from gateway.app import create_app

    roomy = connector_settings(settings_for(settings, fake_google, fake_github)).model_copy(
        update={
            "throttle_api_per_minute": 1_000_000,
            "throttle_public_api_per_minute": 1_000_000,
            "event_tenant_api_per_minute": 1_000_000,
            "event_uploads_per_device_per_minute": 1_000_000,
            "event_uploads_per_ip_per_minute": 1_000_000,
            "event_uploads_per_tenant_per_minute": 1_000_000,
            # 002's hourly limits per user (general, photo uploads, searches)
            "throttle_petcare_per_hour": 1_000_000,
            "throttle_petcare_photos_per_hour": 1_000_000,
            "throttle_petcare_search_per_hour": 1_000_000,
            # 003's AI generation against the local fake provider (its key is in the workers'
            # environment: tests/ai_fakes.py), and throttle:ai out of the way as the others are
            **ai_settings(fake_ai.base_url, ai_rate_limit_per_minute=1_000_000),
            # 003's maps/pin is a 500 without a key (the document's misconfiguration answer); fuzz the
            # rest of it, and the contact form and newsletter sign-ups past their hourly limit per IP
            "google_maps_api_key": "schemathesis-maps-key",
            "throttle_contact_per_hour": 1_000_000,
            # 001's webhooks verify their signatures (a fuzzed one is a 401), not 503 "not configured"
            **{f"webhook_secret_{p}": f"schemathesis-{p}-secret-0123456789" for p in ("revenuecat", "media",
                                                                                     "deletion")},
        }
    )
    async with pool.acquire() as conn:
        quota = await system_settings.read(conn, QUOTA)
        await system_settings.write(conn, QUOTA, 1_000_000_000)
    try:
        yield await aiohttp_client(create_app(roomy))
    finally:
        async with pool.acquire() as conn:
            await system_settings.write(conn, QUOTA, quota)


async def still_signed_in(client: Any, world: World) -> list[str]:
    """The owner's credentials after the run: one spent by an operation outside SPENDS_CALLER
    would have turned the rest of the run into 401s."""
    owner, dead = world.owner, []
    for name, headers, cookies in (
        ("pat", {"Authorization": f"Bearer {owner.pat}"}, None),
        ("jwt", {"Authorization": f"Bearer {owner.jwt}"}, None),
        ("session", None, {"roost_session": owner.session}),
    ):
        resp = await client.get("/api/users/me", headers=headers, cookies=cookies)
        if resp.status != 200:
            dead.append(f"the owner's {name} answers {resp.status} after the run")
    resp = await client.get("/api/v1/tenant-auth/me", headers={"Authorization": f"Bearer {owner.tenant}"})
    if resp.status != 200:
        dead.append(f"the owner's tenant token answers {resp.status} after the run")
    return dead


async def test_every_documented_operation(fuzz_client) -> None:
    from gateway.kernel.openapi.serve import documents_key

    client = fuzz_client
    world = await seed_world(client)
    loop = asyncio.get_running_loop()
    base = str(client.make_url("/")).rstrip("/")
    documents = client.app[documents_key]

    def mint() -> Caller:
        # called from the engine's thread; the app lives on this loop
        return asyncio.run_coroutine_threadsafe(fresh_caller(client, world.owner), loop).result(60)

    started = time.monotonic()
    deadline = started + BUDGET_S
    tallies = await asyncio.to_thread(
        lambda: [run_document(key, base, documents[key], world, mint, deadline) for key in documents]
    )
    tallies[0].errors.extend(await still_signed_in(client, world))
    text = report(tallies, time.monotonic() - started)
    print(text)
    if os.environ.get("SCHEMATHESIS_BY_OPERATION"):  # which answers each operation got
        for t in tallies:
            for (label, status), n in sorted(t.by_operation.items()):
                print(f"  {t.document} {label}: {status} x{n}")
    assert not any(t.failures or t.errors for t in tallies), text
