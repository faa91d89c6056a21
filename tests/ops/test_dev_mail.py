"""Development mail is visible (issue 16, point 4): with MAIL_MAILER=log in development the
gateway prints each message with its working links; `roost mail tail` lists the outbox."""

from __future__ import annotations

import logging
import uuid

from domain.mailer import Mailer, MailTransport
from gateway.kernel.keys import jobs_key, pool_key
from storage import mail_outbox
from tests.builders import unique_email
from tests.ops.cli_runs import roost


async def test_development_log_mailer_prints_the_working_link(client, settings, caplog):
    dev = settings.model_copy(update={"app_env": "development", "mail_mailer": "log"})
    mailer = Mailer.from_settings(dev, client.app[jobs_key])
    token = uuid.uuid4().hex
    email = unique_email()
    with caplog.at_level(logging.INFO, logger="domain.mailer"):
        await mailer.send_verification(email, token)
    shown = [r for r in caplog.records if r.getMessage() == "mail (development: not delivered)"]
    assert len(shown) == 1
    assert shown[0].mail_to == email
    assert shown[0].links == [mailer.verification_link(token)]
    assert token in shown[0].links[0]


async def test_other_environments_and_smtp_print_nothing(client, settings, caplog):
    assert settings.app_env == "testing"
    smtp_dev = settings.model_copy(update={"app_env": "development", "mail_mailer": "smtp"})
    with caplog.at_level(logging.INFO, logger="domain.mailer"):
        for s in (settings, smtp_dev):
            mailer = Mailer.from_settings(s, client.app[jobs_key])
            assert mailer._show_links is False
        quiet = Mailer(
            client.app[jobs_key], MailTransport.from_settings(settings), app_url="http://x", frontend_url="http://y"
        )
        await quiet.send_verification(unique_email(), uuid.uuid4().hex)
    assert [r for r in caplog.records if "development" in r.getMessage()] == []


async def test_mail_tail_lists_the_outbox(client, cli_env):
    email, subject = unique_email(), f"Tail me {uuid.uuid4().hex[:8]}"
    async with client.app[pool_key].acquire() as conn:
        await mail_outbox.insert(
            conn,
            message_id=f"<tail-{uuid.uuid4().hex}@test>",
            to_address=email,
            subject=subject,
            body_text="Open http://127.0.0.1:8000/api/auth/verify/REDACTED-0123456789ab to verify.\n",
            body_html=None,
            kind="verification",
        )
    code, out, err = await roost(cli_env, "mail", "tail", "--limit", "5")
    assert code == 0, err
    lines = out.splitlines()
    mine = next(i for i, line in enumerate(lines) if f"to={email}" in line)
    assert f"subject={subject!r}" in lines[mine]
    assert lines[mine + 1] == "    links: http://127.0.0.1:8000/api/auth/verify/REDACTED-0123456789ab"
