"""domain.accounts' services that surfaces call instead of writing the rule themselves:
`authenticate_by_name` (002's OAuth2 password form) and `start_verification` (003's
/api/auth/verify/send and 000's GPT registration), against the real database and mail job."""

from __future__ import annotations

import uuid

from domain.mailer import Mailer
from gateway.kernel.keys import accounts_key, jobs_key, pool_key
from tests.builders import DEFAULT_PASSWORD, make_user, sha256_hex

RIGHT = sha256_hex(DEFAULT_PASSWORD)
WRONG = sha256_hex("not the password")


async def test_authenticate_by_name_matches_the_name_or_an_email(client):
    accounts = client.app[accounts_key]
    name = f"Name {uuid.uuid4().hex[:10]}"
    user = await make_user(client.app, name=name)
    assert (await accounts.authenticate_by_name(name, RIGHT))["id"] == user["id"]
    assert (await accounts.authenticate_by_name(user["email"], RIGHT))["id"] == user["id"]
    assert await accounts.authenticate_by_name(name, WRONG) is None
    assert await accounts.authenticate_by_name(user["email"], WRONG) is None
    assert await accounts.authenticate_by_name(f"nobody {uuid.uuid4().hex}", RIGHT) is None


async def test_authenticate_by_name_falls_back_to_the_name_when_an_at_is_no_address_of_ours(client):
    accounts = client.app[accounts_key]
    name = f"cat@home {uuid.uuid4().hex[:10]}"
    user = await make_user(client.app, name=name)
    assert (await accounts.authenticate_by_name(name, RIGHT))["id"] == user["id"]


async def test_authenticate_by_name_refuses_a_disabled_account(client):
    accounts = client.app[accounts_key]
    name = f"Disabled {uuid.uuid4().hex[:10]}"
    user = await make_user(client.app, name=name)
    await accounts.update_user(user["id"], {"is_active": False})
    assert await accounts.authenticate_by_name(name, RIGHT) is None
    assert await accounts.authenticate_by_name(user["email"], RIGHT) is None


async def test_start_verification_stores_only_the_hash_and_mails_a_redacted_link(client, settings):
    assert settings.mail_mailer == "log"
    user = await make_user(client.app)
    mailer = Mailer.from_settings(settings, client.app[jobs_key])
    job_id = await client.app[accounts_key].start_verification(user, mailer)
    job = await client.app[jobs_key].wait(job_id, 30)
    assert job.status == "finished", job.error
    async with client.app[pool_key].acquire() as conn:
        token_hash = await conn.fetchval(
            "select token_hash from email_verification_tokens where user_id = $1", user["id"]
        )
        outbox = await conn.fetchrow("select * from mail_outbox where to_address = $1", user["email"])
    assert outbox["kind"] == "verification"
    assert outbox["body_text"].startswith("Hello Test User,\n")
    # the mail named its token as a secret: what was written down holds the stand-in, not the link
    link = next(line.strip() for line in outbox["body_text"].splitlines() if "/api/auth/verify/" in line)
    assert link == f"{settings.app_url.rstrip('/')}/api/auth/verify/REDACTED-{token_hash[:12]}"
