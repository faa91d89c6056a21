"""`roost users create|set-premium` and `roost apikeys create|revoke` (002's POST /user/create)."""

from __future__ import annotations

import sys

import click

from domain import api_keys
from domain.emails import is_email
from domain.errors import Invalid
from domain.passwords import prehash
from gateway.ops.context import OpsContext, pass_ops


@click.group(help="manage user accounts")
def users() -> None:
    pass


@users.command("create", help="create a user (with its personal group)")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name")
@click.option("--verified", is_flag=True, help="mark the email address verified")
@click.option("--premium", is_flag=True)
@pass_ops
def users_create(ops: OpsContext, email: str, password: str, name: str | None, verified: bool, premium: bool) -> int:
    email = email.strip()
    if not is_email(email):
        return ops.fail(f"not an email address: {email!r}")

    async def work() -> int:
        async with ops.accounts() as accounts:
            try:
                user = await accounts.register(
                    email=email,
                    password_hex=prehash(password),
                    name=name,
                    source="admin",
                    verified=verified,
                    premium=premium,
                )
            except Invalid as exc:
                if exc.code == "already_taken":
                    return ops.fail(f"a user with email {email} already exists")
                raise
        print(f"created user {user['id']} {user['email']}")
        return 0

    return ops.run(work())


@users.command("set-premium", help="turn a user's premium flag on (or off with --off)")
@click.argument("email")
@click.option("--off", is_flag=True)
@pass_ops
def users_set_premium(ops: OpsContext, email: str, off: bool) -> int:
    premium = not off

    async def work() -> int:
        async with ops.accounts() as accounts:
            user = await accounts.set_premium(email.strip(), premium)
        if user is None:
            return ops.fail(f"no user with email {email}")
        print(f"user {user['id']} {user['email']}: premium {'on' if premium else 'off'}")
        return 0

    return ops.run(work())


@click.group(help="manage API keys (002's POST /user/create)")
def apikeys() -> None:
    pass


@apikeys.command("create", help="create a key; prints key_id:secret once")
@click.argument("name")
@pass_ops
def apikeys_create(ops: OpsContext, name: str) -> int:
    async def work() -> int:
        async with ops.pool() as pool:
            issued = await api_keys.issue(pool, name)
        # stdout carries the key alone, so scripts can capture it; it is never shown again.
        print(issued.plain_text)
        print(f"API key {issued.record['name']!r} created; store it now, it cannot be shown again.", file=sys.stderr)
        return 0

    return ops.run(work())


@apikeys.command("revoke", help="revoke a key by name")
@click.argument("name")
@pass_ops
def apikeys_revoke(ops: OpsContext, name: str) -> int:
    async def work() -> int:
        async with ops.pool() as pool:
            record = await api_keys.revoke(pool, name)
        if record is None:
            return ops.fail(f"no API key named {name!r}")
        print(f"API key {record['name']!r} revoked")
        return 0

    return ops.run(work())
