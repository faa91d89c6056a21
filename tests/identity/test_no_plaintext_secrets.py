"""After a full flow, no table or Redis key holds a password, token or one-time secret in clear."""

from __future__ import annotations

import asyncio
import re

from domain.tokens import sha256_hex as digest
from gateway.kernel.keys import jobs_key
from tests.builders import sha256_hex, unique_email

PASSWORD = "Plain-text-never-9"


async def test_no_plaintext_secret_is_stored(client, pool, redis_client):
    email = unique_email("secret")
    hexed = sha256_hex(PASSWORD)
    seen: list[str] = [PASSWORD, hexed]

    resp = await client.post(
        "/api/auth/register",
        json={
            "username": email.split("@")[0],
            "first_name": "Sec",
            "email": email,
            "password_hash": hexed,
            "password_hash_confirmation": hexed,
        },
    )
    assert resp.status == 201
    token = (await resp.json())["data"]["token"]
    seen += [token, token.split("|", 1)[1]]

    resp = await client.post("/login", json={"email": email, "password": PASSWORD})
    assert resp.status == 200
    session_id = resp.cookies["roost_session"].value
    xsrf = resp.cookies["XSRF-TOKEN"].value
    seen += [session_id, xsrf]
    cookies = {"roost_session": session_id, "XSRF-TOKEN": xsrf}
    resp = await client.post(
        "/api/user/api-tokens", json={"name": "scan"}, cookies=cookies, headers={"X-XSRF-TOKEN": xsrf}
    )
    assert resp.status == 201
    seen.append((await resp.json())["data"]["plain_text_token"])

    # one-time secrets: a reset token and a verification token (their rows exist after these calls)
    client.session.cookie_jar.clear()
    assert (await client.post("/api/auth/password/forgot", json={"email": email})).status == 200
    assert (await client.post("/api/auth/verify/send", json={"email": email})).status == 200
    async with pool.acquire() as conn:
        reset_rows = await conn.fetch("select * from password_reset_tokens where lower(email) = lower($1)", email)
        user_id = await conn.fetchval("select id from users where lower(email) = lower($1)", email)
        verify_rows = await conn.fetch("select * from email_verification_tokens where user_id = $1", user_id)
    assert reset_rows and verify_rows
    # the one-time secrets travel only in the mail; MAIL_MAILER=log (the tests' default) writes the
    # mail down with them redacted, so after delivery no row may hold a string whose SHA-256 is a
    # live token's (tokens are stored as their SHA-256)
    token_hashes = {r["token_hash"] for r in reset_rows} | {r["token_hash"] for r in verify_rows}
    runner = client.app[jobs_key]
    async with pool.acquire() as conn:
        mail_jobs = await conn.fetch(
            "select id from jobs where kind = 'mail.send' and payload::text like $1", f"%{email}%"
        )
    assert len(mail_jobs) == 2
    for job in mail_jobs:
        assert (await runner.wait(job["id"], timeout=30)).status == "finished"
    async with pool.acquire() as conn:
        outbox = await conn.fetch("select body_text from mail_outbox where to_address = $1", email)
        bodies = " ".join(r["body_text"] for r in outbox)
    assert "token=REDACTED-" in bodies and "/auth/verify/REDACTED-" in bodies, bodies

    # an email change mails the old address a one-time revert link: written down redacted as well
    new_email = unique_email("secret-new")
    resp = await client.put(
        "/api/user",
        json={"email": new_email, "current_password_hash": hexed},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 200, await resp.text()
    async with pool.acquire() as conn:
        reverts = await conn.fetch("select token_hash from email_change_reverts where user_id = $1", user_id)
        token_hashes |= {r["token_hash"] for r in reverts}
        change_jobs = await conn.fetch(
            """select id from jobs where kind = 'mail.send' and id <> all($1::bigint[])
               and (payload::text like $2 or payload::text like $3)""",
            [j["id"] for j in mail_jobs], f"%{email}%", f"%{new_email}%",
        )
    assert len(change_jobs) == 2  # the revert notice to the old address, a verification to the new
    assert len(token_hashes) == len(reset_rows) + len(verify_rows) + 1
    for job in change_jobs:
        assert (await runner.wait(job["id"], timeout=30)).status == "finished"
    async with pool.acquire() as conn:
        notice = await conn.fetchval(
            "select body_text from mail_outbox where to_address = $1 and subject like '%changed%'", email
        )
    assert notice is not None and "token=REDACTED-" in notice, notice

    # Every text column of every table, every Redis value: none may contain a secret in clear.
    async with pool.acquire() as conn:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "select table_name from information_schema.tables"
                " where table_schema = 'public' and table_type = 'BASE TABLE'"
            )
        ]
        dump = []
        for table in tables:
            for row in await conn.fetch(f'select * from "{table}"'):
                dump.extend(str(v) for v in row.values() if v is not None)
    stored_text = " ".join(dump)
    for secret in seen:
        assert secret not in stored_text, f"a secret ({secret[:6]}...) is stored in clear"
    for candidate in set(re.findall(r"[A-Za-z0-9_\-]{20,}", stored_text)):
        assert digest(candidate) not in token_hashes, f"a one-time token ({candidate[:6]}...) is stored in clear"
    # stored password: an argon2id hash, not the hex the client sent
    async with pool.acquire() as conn:
        stored = await conn.fetchval("select password_hash from users where id = $1", user_id)
    assert stored.startswith("$argon2id$") and hexed not in stored
    # token rows hold SHA-256 digests of the secrets
    async with pool.acquire() as conn:
        rows = await conn.fetch("select token_hash from personal_access_tokens where user_id = $1", user_id)
        hashes = {r["token_hash"] for r in rows}
    assert digest(token.split("|", 1)[1]) in hashes

    redis_values = []
    async for key in redis_client.scan_iter(count=1000):
        redis_values.append(key.decode(errors="replace"))
        if await redis_client.type(key) == b"string":
            value = await redis_client.get(key)
            if value is not None:
                redis_values.append(value.decode(errors="replace"))
    redis_text = " ".join(redis_values)
    for secret in seen:
        assert secret not in redis_text, f"a secret ({secret[:6]}...) is in Redis in clear"
    for candidate in set(re.findall(r"[A-Za-z0-9_\-]{20,}", redis_text)):
        assert digest(candidate) not in token_hashes, f"a one-time token ({candidate[:6]}...) is in Redis in clear"
    await asyncio.sleep(0)
