"""`roost tenants create|list` and `roost packages create|list` (001).

Tenants are created by an operator, never through the API (the document allows super admins only
to list and read them). `tenants create` makes the tenant, its owner account and the link in one
transaction (domain/tenants.py); an existing account becomes the owner if it administers no tenant
yet. Like the other admin commands these run against DATABASE_URL, or the embedded PostgreSQL
under ROOST_DATA_DIR, applying pending migrations first; failures print one line on stderr and
exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.admin_cli import _accounts, _pool, _run
from domain.settings import Settings


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; `-` for an empty one."""
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0 or value > 2**31 - 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**31 - 1}: {text}")
    return value


def cmd_tenants_create(settings: Settings, args: argparse.Namespace) -> int:
    from domain.passwords import prehash
    from domain.tenants import create_tenant
    from gateway.petcare.account_models import is_email

    email = args.admin_email.strip()
    if not is_email(email):
        print(f"roost: not an email address: {email!r}", file=sys.stderr)
        return 1

    async def work() -> int:
        password_hex = prehash(args.admin_password)  # refuses an empty password before any database work
        async with _accounts(settings) as accounts:
            created = await create_tenant(
                accounts,
                name=args.name,
                package=args.package,
                admin_email=email,
                admin_password_hex=password_hex,
                slug=args.slug,
            )
        tenant, admin = created.tenant, created.admin
        print(f"created tenant {tenant['id']} {tenant['slug']} ({tenant['name']}), package {tenant['package_slug']}")
        if created.new_account:
            print(f"owner: new account {admin['id']} {admin['email']}")
        else:
            print(f"owner: existing account {admin['id']} {admin['email']} (password unchanged)")
        return 0

    return _run(work)


def cmd_tenants_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage import tenants as tenants_sql

    async def work() -> int:
        async with _pool(settings) as pool, pool.acquire() as conn:
            rows = await tenants_sql.list_all(conn)
        if not rows:
            print("no tenants")
            return 0
        print(
            _table(
                ("ID", "SLUG", "NAME", "PACKAGE", "EVENTS", "ADMINS"),
                [
                    (r["id"], r["slug"], r["name"], r["package_slug"], r["events_count"], r["admin_emails"])
                    for r in rows
                ],
            )
        )
        return 0

    return _run(work)


def cmd_packages_create(settings: Settings, args: argparse.Namespace) -> int:
    from domain.tenants import slugify
    from storage import packages as packages_sql

    name = args.name.strip()
    slug = slugify(args.slug or name)
    if not name or not slug:
        print("roost: the package name needs at least one letter or digit", file=sys.stderr)
        return 1

    async def work() -> int:
        async with _pool(settings) as pool, pool.acquire() as conn:
            row = await packages_sql.create(
                conn,
                slug=slug,
                name=name,
                photo_limit=args.photo_limit,
                gallery_days=args.gallery_days,
                event_limit=args.events,
            )
        events = "unlimited" if row["event_limit"] is None else row["event_limit"]
        print(
            f"created package {row['slug']} ({row['name']}): {row['photo_limit']} photos per event, "
            f"gallery {row['gallery_days']} days, events {events}"
        )
        return 0

    return _run(work)


def cmd_packages_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage import packages as packages_sql

    async def work() -> int:
        async with _pool(settings) as pool, pool.acquire() as conn:
            rows = await packages_sql.list_all(conn)
        print(
            _table(
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

    return _run(work)


def add_commands(sub: argparse._SubParsersAction) -> None:
    tenants = sub.add_parser("tenants", help="manage 001 tenants").add_subparsers(dest="tenants_command", required=True)
    create = tenants.add_parser("create", help="create a tenant with its owner admin")
    create.add_argument("--name", required=True)
    create.add_argument("--package", required=True, help="package slug (see `roost packages list`)")
    create.add_argument("--admin-email", required=True)
    create.add_argument("--admin-password", required=True, help="for a new account; an existing one keeps its own")
    create.add_argument("--slug", help="the tenant's slug (default: from the name, made unique)")
    create.set_defaults(func=cmd_tenants_create)
    tenants.add_parser("list", help="list tenants with their package and admins").set_defaults(func=cmd_tenants_list)

    packages = sub.add_parser("packages", help="manage 001 packages").add_subparsers(
        dest="packages_command", required=True
    )
    pcreate = packages.add_parser("create", help="create a package")
    pcreate.add_argument("name", help="display name; the slug is made from it unless --slug is given")
    pcreate.add_argument("--photo-limit", type=_non_negative, required=True, help="photos per event")
    pcreate.add_argument("--gallery-days", type=_non_negative, required=True, help="days the gallery stays open")
    pcreate.add_argument("--events", type=_non_negative, help="events a tenant may have (default: unlimited)")
    pcreate.add_argument("--slug")
    pcreate.set_defaults(func=cmd_packages_create)
    packages.add_parser("list", help="list packages").set_defaults(func=cmd_packages_list)
