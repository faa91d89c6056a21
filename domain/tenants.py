"""Creating a tenant with its owner admin, all or nothing (the admin CLI's `roost tenants create`).

The owner is a regular account, stored like every other (argon2id of the password's SHA-256 hex,
with its personal group), so the same credentials sign in through every contract. An existing
account becomes the owner when it administers no tenant yet: an account administers at most one,
which is what lets a tenant app sign in with email and password alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from domain.accounts import Accounts
from domain.errors import Conflict, Invalid, NotFound
from domain.slugs import slugify
from storage import packages as packages_sql
from storage import tenants as tenants_sql
from storage import users as users_sql

# tenants.slug's check (and packages.slug's): lowercase letters, digits and dashes, at most 63
SLUG_MAX = 63


@dataclass(frozen=True)
class CreatedTenant:
    tenant: asyncpg.Record
    admin: asyncpg.Record
    # False when an existing account became the owner (its password is left as it was)
    new_account: bool


async def create_tenant(
    accounts: Accounts,
    *,
    name: str,
    package: str,
    admin_email: str,
    admin_password_hex: str,
    slug: str | None = None,
) -> CreatedTenant:
    """The tenant, its owner account (new or existing) and the link between them, in one
    transaction: a failure anywhere leaves none of them behind."""
    name = name.strip()
    if not name or len(name) > 255:
        raise Invalid(fields={"name": ["The name must be 1 to 255 characters."]})
    base = slugify(slug if slug is not None else name, max_length=SLUG_MAX)
    if not base:
        raise Invalid(fields={"slug": ["The slug needs at least one letter or digit."]})
    # Slow on purpose (argon2id), so before the transaction rather than inside it.
    stored_hash = await accounts.hashing.hash(admin_password_hex)
    async with accounts.pool.acquire() as conn, conn.transaction():
        package_row = await packages_sql.by_slug_or_name(conn, package)
        if package_row is None:
            raise NotFound(f"No package named {package!r}.", code="package_not_found")
        user = await users_sql.by_email(conn, admin_email)
        new_account = user is None
        if user is None:
            user = await accounts.insert_account(conn, email=admin_email, password_hash=stored_hash, source="admin")
        else:
            current = await conn.fetchval("select tenant_id from tenant_users where user_id = $1", user["id"])
            if current is not None:
                raise Conflict(
                    f"{user['email']} already administers tenant {current}.",
                    code="already_tenant_admin",
                    meta={"tenant_id": current},
                )
        # An explicit slug is the operator's choice; one derived from the name gets a free suffix.
        tenant_slug = base if slug is not None else await tenants_sql.free_slug(conn, base)
        try:
            created = await tenants_sql.create(conn, name=name, slug=tenant_slug, package_id=package_row["id"])
        except Conflict as exc:
            raise Conflict(f"A tenant with the slug {tenant_slug!r} already exists.", code="already_exists") from exc
        await tenants_sql.add_admin(conn, created["id"], user["id"], role="owner")
        tenant = await tenants_sql.get(conn, created["id"])
    return CreatedTenant(tenant=tenant, admin=user, new_account=new_account)
