"""`mail.send`: deliver one message over SMTP, or write it down when MAIL_MAILER=log.

Payload: `{to, subject, text, html?, kind, secrets?, headers?, transport: {mailer, host, port,
encryption, username, from_address, from_name}}` (built by domain/mailer.py).

MAIL_MAILER=log writes the message to the `mail_outbox` table and the log with its one-time
secrets (`secrets`) redacted: both outlive the link's purpose and travel further than a mailbox
(backups, log shippers). A developer who wants to follow a link locally runs an SMTP catcher
(`python -m aiosmtpd -n -l 127.0.0.1:1025` prints every message) with MAIL_MAILER=smtp; tests use
tests/api/smtp_inbox.py.

Where the settings come from. A Ray task does not get the gateway's app, so the transport travels
in the payload: explicit, and a test can aim one job at its own SMTP server. The one exception is
the SMTP password. Payloads are stored in the `jobs` table, readable by anyone who can read that
table or a backup of it, so the password is never put there; the worker reads MAIL_PASSWORD from
its own environment (the process environment or `.env`, `WorkerMailEnv` below: that one variable,
not the gateway's whole `Settings`, whose validation needs APP_KEY and the rest), and only when the
transport names a username. Workers therefore need MAIL_PASSWORD in their environment (the
RayCluster's worker pods), not just the gateway.

Idempotency. A job may run twice (a worker can die after sending but before the row records it).
The job id is the message's Message-ID, so the outbox keeps one row per job (unique index), and
a receiving system can recognise an SMTP message that was delivered twice.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any, TypedDict

import aiosmtplib
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.mailer import redact
from jobs.registry import JobContext, PermanentJobError, job
from storage import jobs as jobs_sql
from storage import mail_outbox

log = logging.getLogger(__name__)

# Long enough for a slow relay, short enough that a hung server costs one attempt, not the job.
SMTP_TIMEOUT_S = 30.0
_REQUIRED = ("to", "subject", "text", "kind")
# Bodies carry one-time links (password reset, verification): once delivered they are dropped
# from the jobs table, whose rows outlive the links' purpose and end up in backups.
BODY_KEYS = ["text", "html", "secrets"]
_TRANSPORT = ("mailer", "host", "port", "encryption", "from_address")
# The headers a payload may add (domain/mailer.py's Message.headers); no other header can be set,
# so a payload never overrides From, To or Subject
EXTRA_HEADERS = ("Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post")


def _check(payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(payload, dict):
        raise PermanentJobError("the mail payload must be an object")
    missing = [k for k in _REQUIRED if not isinstance(payload.get(k), str) or not payload[k]]
    transport = payload.get("transport")
    if not isinstance(transport, dict):
        missing.append("transport")
        transport = {}
    else:
        missing += [f"transport.{k}" for k in _TRANSPORT if transport.get(k) in (None, "")]
    if missing:
        raise PermanentJobError(f"the mail payload lacks {', '.join(missing)}")
    return payload, transport


def _secrets(payload: dict[str, Any]) -> list[str]:
    raw = payload.get("secrets")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise PermanentJobError("the mail payload's secrets must be a list of strings")
    return raw


def message_id(job_id: int, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "roost.invalid"
    return f"<roost-mail-{job_id}@{domain}>"


def build(payload: dict[str, Any], transport: dict[str, Any], msg_id: str) -> EmailMessage:
    msg = EmailMessage()
    try:
        msg["From"] = formataddr((transport.get("from_name") or "", transport["from_address"]))
        msg["To"] = payload["to"]
        msg["Subject"] = payload["subject"]
        msg["Message-ID"] = msg_id
        msg["Date"] = formatdate(usegmt=True)
        extra = payload.get("headers") or {}
        if not isinstance(extra, dict):
            raise TypeError("the mail payload's headers must be an object")
        for name in EXTRA_HEADERS:
            if name in extra:
                # the email package refuses a value with a line break (ValueError below)
                msg[name] = extra[name]
        msg.set_content(payload["text"])
        if payload.get("html"):
            msg.add_alternative(payload["html"], subtype="html")
    except (ValueError, TypeError) as exc:  # a header with a line break, a non-string body
        raise PermanentJobError(f"the message cannot be built: {exc}") from exc
    return msg


class WorkerMailEnv(BaseSettings):
    """What a mail worker reads from its own environment: the SMTP password and nothing else."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    mail_password: str | None = None


def _smtp_password(transport: dict[str, Any]) -> str | None:
    if not transport.get("username"):
        return None
    # read per message, and only by workers that authenticate: a rotated password is picked up
    return WorkerMailEnv().mail_password or ""


class _TlsOptions(TypedDict):
    use_tls: bool
    start_tls: bool


def _tls_options(encryption: str) -> _TlsOptions:
    if encryption == "ssl":
        return {"use_tls": True, "start_tls": False}
    if encryption == "tls":
        return {"use_tls": False, "start_tls": True}
    if encryption == "none":
        # explicitly no STARTTLS; aiosmtplib would otherwise upgrade when the server offers it
        return {"use_tls": False, "start_tls": False}
    raise PermanentJobError(f"unknown MAIL_ENCRYPTION {encryption!r} (tls, ssl or none)")


async def _send_smtp(msg: EmailMessage, transport: dict[str, Any]) -> None:
    try:
        await aiosmtplib.send(
            msg,
            hostname=transport["host"],
            port=int(transport["port"]),
            username=transport.get("username") or None,
            password=_smtp_password(transport),
            timeout=SMTP_TIMEOUT_S,
            **_tls_options(transport["encryption"]),
        )
    except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused) as exc:
        # A 5xx refusal of the address will be refused again; 4xx (greylisting, full mailbox) may not.
        codes = [r.code for r in getattr(exc, "recipients", [])] or [getattr(exc, "code", 0)]
        if all(code >= 500 for code in codes):
            raise PermanentJobError(f"the SMTP server refused the message: {exc}") from exc
        raise


@job("mail.send")
async def send(payload: Any, ctx: JobContext) -> dict[str, Any]:
    if isinstance(payload, dict) and payload.get("redacted"):
        # A rerun after the mail went out and its body was scrubbed (the worker died before the
        # row said finished): the mail was delivered; there is nothing left to send.
        return {"message_id": None, "already_sent": True}
    result = await deliver(payload, ctx)
    await jobs_sql.redact_payload(ctx.conn, ctx.job_id, BODY_KEYS)
    return result


async def deliver(payload: Any, ctx: JobContext) -> dict[str, Any]:
    """Send one message (a `mail.send` payload) over SMTP, or to the outbox when MAIL_MAILER=log,
    with the job's id as its Message-ID. For jobs whose work includes a mail as one step
    (jobs/notifications.py); they keep their own payload, so nothing is redacted here."""
    payload, transport = _check(payload)
    msg_id = message_id(ctx.job_id, transport["from_address"])
    msg = build(payload, transport, msg_id)
    if transport["mailer"] == "log":
        secrets = _secrets(payload)
        text = redact(payload["text"], secrets)
        html = payload.get("html")
        stored = await mail_outbox.insert(
            ctx.conn,
            message_id=msg_id,
            to_address=payload["to"],
            subject=payload["subject"],
            body_text=text,
            body_html=redact(html, secrets) if html else html,
            kind=payload["kind"],
        )
        log.info(
            "mail written to the outbox (MAIL_MAILER=log, one-time links redacted)\nTo: %s\nSubject: %s\n\n%s",
            payload["to"],
            payload["subject"],
            text,
            extra={"job_id": ctx.job_id, "kind": payload["kind"]},
        )
        return {"mailer": "log", "message_id": msg_id, "stored": stored}
    if transport["mailer"] != "smtp":
        raise PermanentJobError(f"unknown MAIL_MAILER {transport['mailer']!r} (smtp or log)")
    await _send_smtp(msg, transport)
    log.info("mail sent", extra={"job_id": ctx.job_id, "kind": payload["kind"]})
    return {"mailer": "smtp", "message_id": msg_id}
