"""`roost tenants …` and `roost packages …`, run as the operator runs them (a subprocess of the
CLI) against the test database, checked in the database and by signing in through the gateway."""

from __future__ import annotations

import uuid

from gateway.kernel.keys import accounts_key, pool_key
from tests.builders import DEFAULT_PASSWORD, make_user, sha256_hex, unique_email
from tests.event_builders import make_tenant, make_tenant_admin
from tests.ops.cli_runs import roost


async def create_tenant(env: dict[str, str], name: str, package: str, email: str, password: str = "p"):
    return await roost(
        env, "tenants", "create", "--name", name, "--package", package,
        "--admin-email", email, "--admin-password", password,
    )


async def test_packages_create_and_list(client, cli_env):
    name = f"Wedding {uuid.uuid4().hex[:6]}"
    code, out, err = await roost(
        cli_env, "packages", "create", name, "--photo-limit", "300", "--gallery-days", "60", "--events", "5"
    )
    assert code == 0, err
    slug = name.lower().replace(" ", "-")
    row = await client.app[pool_key].fetchrow("select * from packages where slug = $1", slug)
    assert (row["name"], row["photo_limit"], row["gallery_days"], row["event_limit"]) == (name, 300, 60, 5)
    assert out.strip() == f"created package {slug} ({name}): 300 photos per event, gallery 60 days, events 5"

    code, out, err = await roost(cli_env, "packages", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "PHOTOS", "GALLERY", "DAYS", "EVENTS", "TENANTS"]
    assert any(line.split()[0] == "pro" and "unlimited" in line for line in lines[1:])
    assert any(line.startswith(slug + " ") and " 300 " in line for line in lines[1:])

    code, out, err = await roost(cli_env, "packages", "create", name, "--photo-limit", "1", "--gallery-days", "1")
    assert code == 1 and out == ""
    assert "already exists" in err


async def test_packages_create_refuses_negative_limits(client, cli_env):
    code, _, err = await roost(cli_env, "packages", "create", "neg", "--photo-limit", "-1", "--gallery-days", "1")
    assert code == 2
    assert "photo-limit" in err


async def test_tenants_create_makes_tenant_owner_and_a_working_login(client, cli_env):
    email = unique_email("owner")
    name = f"Müller Hochzeiten {uuid.uuid4().hex[:6]}"
    code, out, err = await create_tenant(cli_env, name, "starter", email, "Owner-Pass-1")
    assert code == 0, err
    pool = client.app[pool_key]
    tenant = await pool.fetchrow(
        "select t.*, p.slug as package_slug from tenants t join packages p on p.id = t.package_id where t.name = $1",
        name,
    )
    assert tenant["slug"] == "muller-hochzeiten-" + name[-6:]
    assert tenant["package_slug"] == "starter"
    link = await pool.fetchrow(
        "select u.email, tu.role from tenant_users tu join users u on u.id = tu.user_id where tu.tenant_id = $1",
        tenant["id"],
    )
    assert (link["email"], link["role"]) == (email, "owner")
    assert out.splitlines()[0] == f"created tenant {tenant['id']} {tenant['slug']} ({name}), package starter"
    assert "new account" in out.splitlines()[1]
    # hashed like every other account: the same password signs in through every contract
    assert await client.app[accounts_key].authenticate(email, sha256_hex("Owner-Pass-1")) is not None
    resp = await client.post("/api/v1/tenant-auth/login", json={"email": email, "password": "Owner-Pass-1"})
    assert resp.status == 200
    assert (await resp.json())["data"]["tenant"]["id"] == tenant["id"]

    # the same name again gets a free slug
    code, _, err = await create_tenant(cli_env, name, "starter", unique_email())
    assert code == 0, err
    slugs = await pool.fetch("select slug from tenants where name = $1 order by id", name)
    assert [r["slug"] for r in slugs] == [tenant["slug"], tenant["slug"] + "-2"]

    code, out, err = await roost(cli_env, "tenants", "list")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["ID", "SLUG", "NAME", "PACKAGE", "EVENTS", "ADMINS"]
    row = next(line for line in out.splitlines() if line.startswith(f"{tenant['id']} "))
    assert tenant["slug"] in row and email in row


async def test_an_existing_account_without_a_tenant_becomes_the_owner(client, cli_env):
    user = await make_user(client.app)
    code, out, err = await create_tenant(cli_env, "Existing", "free", user["email"].upper(), "ignored")
    assert code == 0, err
    assert f"existing account {user['id']}" in out and "password unchanged" in out
    role = await client.app[pool_key].fetchval("select role from tenant_users where user_id = $1", user["id"])
    assert role == "owner"
    assert await client.app[accounts_key].authenticate(user["email"], sha256_hex(DEFAULT_PASSWORD)) is not None


async def test_refusals_leave_nothing_behind(client, cli_env):
    pool = client.app[pool_key]
    tenant = await make_tenant(client.app)
    admin, _ = await make_tenant_admin(client.app, tenant["id"])
    name = f"Refused {uuid.uuid4().hex[:6]}"
    code, out, err = await create_tenant(cli_env, name, "pro", admin["email"])
    assert code == 1 and out == ""
    assert "already administers" in err
    email = unique_email("nopkg")
    code, _, err = await create_tenant(cli_env, name, "no-such-package", email)
    assert code == 1
    assert "No package named 'no-such-package'" in err
    assert await pool.fetchval("select count(*) from tenants where name = $1", name) == 0
    assert await pool.fetchval("select count(*) from users where email = $1", email) == 0
    code, _, err = await create_tenant(cli_env, name, "pro", "not-an-email")
    assert code == 1 and "not an email address" in err
