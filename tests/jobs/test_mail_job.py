"""The `mail.send` job: real SMTP delivery to a local aiosmtpd server through real Ray tasks,
retries while the server is down, permanent refusals, and the idempotent log outbox."""

from __future__ import annotations

import asyncpg
import pytest

from domain.mailer import MailTransport, Message, payload
from jobs import mail
from jobs.registry import JobContext, PermanentJobError
from storage import jobs as jobs_sql
from tests.builders import sha256_hex, unique_email
from tests.smtp_inbox import free_port, start_inbox
from tests.waiting import eventually

from .conftest import MakeRunner

WAIT_S = 30.0


def _transport(port: int, **overrides) -> MailTransport:
    fields = dict(
        mailer="smtp",
        host="127.0.0.1",
        port=port,
        encryption="none",
        username=None,
        from_address="hello@roost.example.test",
        from_name="Roost",
    )
    fields.update(overrides)
    return MailTransport(**fields)


def _message(to: str, kind: str = "test") -> Message:
    return Message(to, "Hello there", "Plain text body\nhttps://example.test/link\n", "<p>HTML body</p>", kind)


async def test_a_job_delivers_over_smtp(make_runner: MakeRunner, smtp_inbox):
    runner = await make_runner()
    to = unique_email("smtp")
    job_id = await runner.submit("mail.send", payload(_message(to), _transport(smtp_inbox.port)))
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("finished", 1), job.error
    assert job.result == {"mailer": "smtp", "message_id": f"<roost-mail-{job_id}@roost.example.test>"}

    [received] = smtp_inbox.messages_to(to)
    msg = received.message
    assert received.mail_from == "hello@roost.example.test"
    assert msg["From"] == "Roost <hello@roost.example.test>"
    assert msg["To"] == to and msg["Subject"] == "Hello there"
    assert msg["Message-ID"] == job.result["message_id"]
    assert received.text.startswith("Plain text body") and received.html.strip() == "<p>HTML body</p>"
    assert received.links() == ["https://example.test/link"]


async def test_a_job_is_retried_until_the_server_is_up(make_runner: MakeRunner):
    runner = await make_runner(backoff_base_s=0.3, backoff_cap_s=0.6)
    port = free_port()  # nothing listens here yet
    to = unique_email("retry")
    job_id = await runner.submit("mail.send", payload(_message(to), _transport(port)), max_attempts=20)

    async def failed_once():
        job = await runner.get(job_id)
        return job if job.attempts >= 1 and job.error else None

    job = await eventually(failed_once, timeout=WAIT_S, interval=0.05, what="a first failed attempt")
    assert job.status in ("pending", "running")
    inbox, controller = start_inbox(port)
    try:
        job = await runner.wait(job_id, WAIT_S)
        assert job.status == "finished", job.error
        assert job.attempts >= 2
        [received] = await inbox.wait_for(to)
        assert received.message["Message-ID"] == f"<roost-mail-{job_id}@roost.example.test>"
    finally:
        controller.stop()


async def test_a_refused_recipient_fails_without_retrying(make_runner: MakeRunner, smtp_inbox):
    runner = await make_runner()
    to = f"refuse-{unique_email()}"
    job_id = await runner.submit("mail.send", payload(_message(to), _transport(smtp_inbox.port)), max_attempts=5)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "refused" in job.error


@pytest.mark.parametrize(
    "bad",
    [
        "not an object",
        {"to": "x@example.test"},
        {"to": "x@example.test", "subject": "s", "text": "t", "kind": "k"},
        {"to": "x@example.test", "subject": "s", "text": "t", "kind": "k", "transport": {"mailer": "smtp"}},
    ],
)
async def test_a_malformed_payload_fails_at_once(make_runner: MakeRunner, bad):
    runner = await make_runner()
    job_id = await runner.submit("mail.send", bad, max_attempts=5)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "payload" in job.error


async def test_a_header_injection_fails_at_once(make_runner: MakeRunner, smtp_inbox):
    runner = await make_runner()
    message = Message("x@example.test", "Hi\r\nBcc: victim@example.test", "t", None, "k")
    job_id = await runner.submit("mail.send", payload(message, _transport(smtp_inbox.port)), max_attempts=5)
    job = await runner.wait(job_id, WAIT_S)
    assert (job.status, job.attempts) == ("failed", 1)
    assert smtp_inbox.messages_to("victim@example.test") == []


async def _job_row(pool: asyncpg.Pool) -> int:
    """A real job id to run a handler under by hand (message ids are unique per job)."""
    async with pool.acquire() as conn:
        job_id, _ = await jobs_sql.insert(conn, "mail.send", {}, max_attempts=1)
        # never dispatched: mark it done so no sweeper picks it up
        await conn.execute("update jobs set status = 'finished' where id = $1", job_id)
    return job_id


async def test_log_mode_writes_the_outbox_once_per_job(pool: asyncpg.Pool):
    job_id = await _job_row(pool)
    to = unique_email("log")
    body = payload(_message(to, "verification"), _transport(1, mailer="log"))
    async with pool.acquire() as conn:
        ctx = JobContext(job_id, "mail.send", 1, 3, conn)
        first = await mail.send(body, ctx)
        # the same job run again (a worker died before recording the outcome)
        second = await mail.send(body, JobContext(job_id, "mail.send", 2, 3, conn))
        rows = await conn.fetch("select * from mail_outbox where to_address = $1", to)
    assert first["stored"] is True and second["stored"] is False
    assert first["message_id"] == second["message_id"] == f"<roost-mail-{job_id}@roost.example.test>"
    assert len(rows) == 1
    row = rows[0]
    assert (row["subject"], row["kind"], row["body_html"]) == ("Hello there", "verification", "<p>HTML body</p>")
    assert row["body_text"].startswith("Plain text body")


async def test_log_mode_writes_the_outbox_and_the_log_with_one_time_links_redacted(pool: asyncpg.Pool, caplog):
    job_id = await _job_row(pool)
    to, secret = unique_email("log"), "s3cr3t-one-time-token-0123456789abcdef"
    link = f"https://spa.example.test/auth/reset-password?token={secret}&email=x"
    message = Message(to, "Reset", f"Open {link}\n", f'<a href="{link}">{link}</a>', "password_reset", (secret,))
    async with pool.acquire() as conn:
        with caplog.at_level("INFO", logger="jobs.mail"):
            await mail.send(payload(message, _transport(1, mailer="log")), JobContext(job_id, "mail.send", 1, 3, conn))
        row = await conn.fetchrow("select * from mail_outbox where to_address = $1", to)
        stored_payload = await conn.fetchval("select payload::text from jobs where id = $1", job_id)
    stand_in = "REDACTED-" + sha256_hex(secret)[:12]
    assert row["body_text"] == f"Open https://spa.example.test/auth/reset-password?token={stand_in}&email=x\n"
    assert secret not in row["body_html"] and stand_in in row["body_html"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert stand_in in logged and secret not in logged
    assert secret not in stored_payload  # the job row drops the bodies and the secrets list once written


async def test_the_smtp_password_comes_from_the_worker_environment(pool, smtp_inbox, monkeypatch):
    """Run in this process (not Ray) so the environment is the test's: the payload names the
    user, the password is read from MAIL_PASSWORD."""
    job_id = await _job_row(pool)
    to = unique_email("auth")
    body = payload(_message(to), _transport(smtp_inbox.port, username="mailer"))
    assert "password" not in body["transport"]
    monkeypatch.setenv("MAIL_PASSWORD", "s3cret-from-env")
    async with pool.acquire() as conn:
        result = await mail.send(body, JobContext(job_id, "mail.send", 1, 3, conn))
    assert result["mailer"] == "smtp"
    assert smtp_inbox.logins == [("mailer", "s3cret-from-env")]
    assert len(smtp_inbox.messages_to(to)) == 1

    monkeypatch.setenv("MAIL_PASSWORD", "wrong")
    async with pool.acquire() as conn:
        with pytest.raises(Exception) as info:  # a transient failure: the runtime retries it
            await mail.send(body, JobContext(job_id, "mail.send", 2, 3, conn))
    assert not isinstance(info.value, PermanentJobError)


def test_encryption_settings_map_to_smtp_options():
    assert mail._tls_options("tls") == {"use_tls": False, "start_tls": True}
    assert mail._tls_options("ssl") == {"use_tls": True, "start_tls": False}
    assert mail._tls_options("none") == {"use_tls": False, "start_tls": False}
    with pytest.raises(PermanentJobError):
        mail._tls_options("starttls-please")
