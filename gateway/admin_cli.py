"""Admin subcommands: `roost users create|set-premium`, `roost apikeys create|revoke`.

They run the same domain code as the gateway (Accounts, domain.api_keys) against DATABASE_URL, or
against the embedded PostgreSQL under ROOST_DATA_DIR that `roost serve` uses (pgserver counts its
users, so a running gateway keeps its server). Pending migrations are applied first, as `roost
migrate` would. Failures print one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

from domain.errors import RoostError
from domain.settings import Settings

# The embedded services' Redis slot is filled with this so that only PostgreSQL is started: a
# private Redis that no gateway listens on would be of no use to a one-shot command.
_NO_EMBEDDED_REDIS = "unused://"


class _NoRevocations:
    """Without REDIS_URL there is no shared channel to publish on: the gateways (if any) run with
    their own embedded Redis, and their cache entries expire within the token cache's TTL."""

    async def tokens_revoked(self, token_hashes: list[str]) -> None:
        pass

    async def user_changed(self, user_id: int) -> None:
        pass


@asynccontextmanager
async def _pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    from gateway.cli import _migrate  # imported here: gateway.cli imports this module
    from gateway.embedded import EmbeddedServices
    from storage.pool import create_pool

    # pgserver narrates every start and stop at INFO; an operator running one command wants its answer
    logging.getLogger("pgserver").setLevel(max(logging.WARNING, logging.getLogger().level))
    services = EmbeddedServices(
        data_dir=settings.roost_data_dir,
        database_url=settings.database_url,
        redis_url=_NO_EMBEDDED_REDIS,
    )
    dsn = services.start().database_url
    try:
        await _migrate(dsn)
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        services.stop()


@asynccontextmanager
async def _accounts(settings: Settings) -> AsyncIterator:
    """Accounts as the gateway builds it. set-premium must reach running gateways' token caches
    (they hold a user's premium flag for up to their TTL), so with REDIS_URL set the revocations
    go through TokenCache's own publisher on the channel every gateway listens to."""
    import redis.asyncio as aioredis

    from domain.accounts import Accounts
    from domain.passwords import PasswordHashing
    from gateway.kernel.auth.token_cache import TokenCache

    async with _pool(settings) as pool:
        hashing = PasswordHashing(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
            max_concurrent=1,
        )
        redis = aioredis.from_url(settings.redis_url) if settings.redis_url else None
        try:
            # Never start()ed: no listener, no write-behind; only its publishing is used.
            revocations = TokenCache(pool, redis, prefix=settings.redis_prefix) if redis is not None else _NoRevocations()
            yield Accounts(pool, hashing, revocations, app_key=settings.app_key, jwt_ttl_s=settings.jwt_ttl_s)
        finally:
            if redis is not None:
                await redis.aclose()
            hashing.close()


def _run(work: Callable[[], Awaitable[int]]) -> int:
    try:
        return asyncio.run(work())
    except RoostError as err:
        detail = "; ".join(m for msgs in err.fields.values() for m in msgs)
        print(f"roost: {detail or err.message}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        # an unreachable or refusing database: one line, not a traceback
        print(f"roost: database error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> int:
    from domain.errors import Invalid
    from domain.passwords import prehash
    from gateway.petcare.account_models import is_email

    email = args.email.strip()
    if not is_email(email):
        print(f"roost: not an email address: {email!r}", file=sys.stderr)
        return 1

    async def work() -> int:
        async with _accounts(settings) as accounts:
            try:
                user = await accounts.register(
                    email=email,
                    password_hex=prehash(args.password),
                    name=args.name,
                    source="admin",
                    verified=args.verified,
                    premium=args.premium,
                )
            except Invalid as exc:
                if exc.code == "already_taken":
                    print(f"roost: a user with email {email} already exists", file=sys.stderr)
                    return 1
                raise
        print(f"created user {user['id']} {user['email']}")
        return 0

    return _run(work)


def cmd_users_set_premium(settings: Settings, args: argparse.Namespace) -> int:
    premium = not args.off

    async def work() -> int:
        async with _accounts(settings) as accounts:
            user = await accounts.set_premium(args.email.strip(), premium)
        if user is None:
            print(f"roost: no user with email {args.email}", file=sys.stderr)
            return 1
        print(f"user {user['id']} {user['email']}: premium {'on' if premium else 'off'}")
        return 0

    return _run(work)


def cmd_apikeys_create(settings: Settings, args: argparse.Namespace) -> int:
    from domain import api_keys

    async def work() -> int:
        async with _pool(settings) as pool:
            issued = await api_keys.issue(pool, args.name)
        # stdout carries the key alone, so scripts can capture it; it is never shown again.
        print(issued.plain_text)
        print(f"API key {issued.record['name']!r} created; store it now, it cannot be shown again.", file=sys.stderr)
        return 0

    return _run(work)


def cmd_apikeys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from domain import api_keys

    async def work() -> int:
        async with _pool(settings) as pool:
            record = await api_keys.revoke(pool, args.name)
        if record is None:
            print(f"roost: no API key named {args.name!r}", file=sys.stderr)
            return 1
        print(f"API key {record['name']!r} revoked")
        return 0

    return _run(work)


def add_commands(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="manage user accounts").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create a user (with its personal group)")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name")
    create.add_argument("--verified", action="store_true", help="mark the email address verified")
    create.add_argument("--premium", action="store_true")
    create.set_defaults(func=cmd_users_create)
    premium = users.add_parser("set-premium", help="turn a user's premium flag on (or off with --off)")
    premium.add_argument("email")
    premium.add_argument("--off", action="store_true")
    premium.set_defaults(func=cmd_users_set_premium)

    keys = sub.add_parser("apikeys", help="manage API keys (002's POST /user/create)").add_subparsers(
        dest="apikeys_command", required=True
    )
    key_create = keys.add_parser("create", help="create a key; prints key_id:secret once")
    key_create.add_argument("name")
    key_create.set_defaults(func=cmd_apikeys_create)
    key_revoke = keys.add_parser("revoke", help="revoke a key by name")
    key_revoke.add_argument("name")
    key_revoke.set_defaults(func=cmd_apikeys_revoke)

    # runtime settings and the API request log (gateway/settings_cli.py)
    from gateway.settings_cli import add_commands as add_settings_commands

    add_settings_commands(sub)
