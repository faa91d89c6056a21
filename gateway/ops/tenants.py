"""`roost tenants create|list` and `roost packages create|list` (001).

Tenants are created by an operator, never through the API (the document allows super admins only
to list and read them). `tenants create` makes the tenant, its owner account and the link in one
transaction (domain/tenants.py); an existing account becomes the owner if it administers no tenant
yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from domain.emails import is_email
from domain.passwords import prehash
from domain.slugs import slugify
from domain.tenants import SLUG_MAX, create_tenant
from gateway.ops.context import OpsContext, pass_ops
from storage import packages as packages_sql
from storage import tenants as tenants_sql

# The packages table's limits are PostgreSQL integers.
_LIMIT = click.IntRange(0, 2**31 - 1)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; `-` for an empty one."""
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


@click.group(help="manage 001 tenants")
def tenants() -> None:
    pass


@tenants.command("create", help="create a tenant with its owner admin")
@click.option("--name", required=True)
@click.option("--package", required=True, help="package slug (see `roost packages list`)")
@click.option("--admin-email", required=True)
@click.option("--admin-password", required=True, help="for a new account; an existing one keeps its own")
@click.option("--slug", help="the tenant's slug (default: from the name, made unique)")
@pass_ops
def tenants_create(
    ops: OpsContext, name: str, package: str, admin_email: str, admin_password: str, slug: str | None
) -> int:
    email = admin_email.strip()
    if not is_email(email):
        return ops.fail(f"not an email address: {email!r}")

    async def work() -> int:
        password_hex = prehash(admin_password)  # refuses an empty password before any database work
        async with ops.accounts() as accounts:
            created = await create_tenant(
                accounts, name=name, package=package, admin_email=email, admin_password_hex=password_hex, slug=slug
            )
        tenant, admin = created.tenant, created.admin
        print(f"created tenant {tenant['id']} {tenant['slug']} ({tenant['name']}), package {tenant['package_slug']}")
        if created.new_account:
            print(f"owner: new account {admin['id']} {admin['email']}")
        else:
            print(f"owner: existing account {admin['id']} {admin['email']} (password unchanged)")
        return 0

    return ops.run(work())


@tenants.command("list", help="list tenants with their package and admins")
@pass_ops
def tenants_list(ops: OpsContext) -> int:
    async def work() -> int:
        async with ops.pool(read_only=True) as pool, pool.acquire() as conn:
            rows = await tenants_sql.list_all(conn)
        if not rows:
            print("no tenants")
            return 0
        print(
            table(
                ("ID", "SLUG", "NAME", "PACKAGE", "EVENTS", "ADMINS"),
                [
                    (r["id"], r["slug"], r["name"], r["package_slug"], r["events_count"], r["admin_emails"])
                    for r in rows
                ],
            )
        )
        return 0

    return ops.run(work())


@click.group(help="manage 001 packages")
def packages() -> None:
    pass


@packages.command(
    "create", help="create a package (NAME is its display name; the slug is made from it unless --slug is given)"
)
@click.argument("name")
@click.option("--photo-limit", type=_LIMIT, required=True, help="photos per event")
@click.option("--gallery-days", type=_LIMIT, required=True, help="days the gallery stays open")
@click.option("--events", type=_LIMIT, help="events a tenant may have (default: unlimited)")
@click.option("--slug")
@pass_ops
def packages_create(
    ops: OpsContext, name: str, photo_limit: int, gallery_days: int, events: int | None, slug: str | None
) -> int:
    name = name.strip()
    slug = slugify(slug or name, max_length=SLUG_MAX)
    if not name or not slug:
        return ops.fail("the package name needs at least one letter or digit")

    async def work() -> int:
        async with ops.pool() as pool, pool.acquire() as conn:
            row = await packages_sql.create(
                conn, slug=slug, name=name, photo_limit=photo_limit, gallery_days=gallery_days, event_limit=events
            )
        limit = "unlimited" if row["event_limit"] is None else row["event_limit"]
        print(
            f"created package {row['slug']} ({row['name']}): {row['photo_limit']} photos per event, "
            f"gallery {row['gallery_days']} days, events {limit}"
        )
        return 0

    return ops.run(work())


@packages.command("list", help="list packages")
@pass_ops
def packages_list(ops: OpsContext) -> int:
    async def work() -> int:
        async with ops.pool(read_only=True) as pool, pool.acquire() as conn:
            rows = await packages_sql.list_all(conn)
        print(
            table(
                ("SLUG", "NAME", "PHOTOS", "GALLERY DAYS", "EVENTS", "TENANTS"),
                [
                    (
                        r["slug"],
                        r["name"],
                        r["photo_limit"],
                        r["gallery_days"],
                        "unlimited" if r["event_limit"] is None else r["event_limit"],
                        r["tenants_count"],
                    )
                    for r in rows
                ],
            )
        )
        return 0

    return ops.run(work())
