"""Account mail: what the messages say, and handing them to the `mail.send` job.

Handlers call `send_password_reset` / `send_verification`; the job (jobs/mail.py) delivers over
SMTP with retries, or writes the message to the log and the `mail_outbox` table when
MAIL_MAILER=log (the embedded default). A message names the one-time secrets its links carry
(`Message.secrets`): what is written down instead of sent has each replaced by `redact()`'s
stand-in, so the outbox and the log never hold a working link (a database backup or a log
shipper would otherwise hand out password resets). The one exception is development with
MAIL_MAILER=log, where nothing is delivered: the gateway prints each message's links to its own
log, so a developer can follow them. Links point at the SPA (FRONTEND_URL) for password resets
and at this backend (APP_URL) for verification, whose callback then redirects to the SPA.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from domain.settings import Settings
    from jobs.runtime import JobRunner

log = logging.getLogger(__name__)

MAIL_JOB = "mail.send"
_LINK = re.compile(r"https?://\S+")
# An unreachable SMTP server is usually back within minutes; five attempts with the runner's
# backoff (1 s doubling, capped) cover about half a minute before a reset mail is given up.
MAIL_MAX_ATTEMPTS = 5
RESET_TTL_MINUTES = 120
VERIFICATION_TTL_HOURS = 24


@dataclass(frozen=True)
class MailTransport:
    """Where and how mail goes. Everything here is stored in the job row, so no secrets: the SMTP
    password stays in the worker's environment (see jobs/mail.py)."""

    mailer: str  # "smtp" | "log"
    host: str
    port: int
    encryption: str  # "tls" (STARTTLS) | "ssl" (implicit TLS) | "none"
    username: str | None
    from_address: str
    from_name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MailTransport:
        return cls(
            mailer=settings.mail_mailer,
            host=settings.mail_host,
            port=settings.mail_port,
            encryption=settings.mail_encryption,
            username=settings.mail_username,
            from_address=settings.mail_from_address,
            from_name=settings.mail_from_name,
        )


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str | None
    kind: str
    # one-time secrets inside text/html, redacted wherever the message is written down
    secrets: tuple[str, ...] = field(default=())
    # extra headers, only those jobs/mail.py's EXTRA_HEADERS names (Reply-To of a contact
    # message, List-Unsubscribe of a newsletter mail)
    headers: tuple[tuple[str, str], ...] = field(default=())


def links_in(text: str) -> list[str]:
    """The URLs in a message's text, in order (for people reading mail that was not delivered)."""
    return _LINK.findall(text)


def redact(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    """`text` with each secret replaced by `REDACTED-` and the first 12 hex digits of its SHA-256:
    nothing that works as a link, enough to match the row (tokens are stored as their SHA-256)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "REDACTED-" + hashlib.sha256(secret.encode()).hexdigest()[:12])
    return text


class Mailer:
    def __init__(
        self, jobs: JobRunner, transport: MailTransport, *, app_url: str, frontend_url: str, show_links: bool = False
    ) -> None:
        self._jobs = jobs
        self._transport = transport
        # development with MAIL_MAILER=log: each message, links included, is printed to the
        # server's log, since nothing is delivered and the outbox keeps the links redacted
        self._show_links = show_links
        self._app_url = app_url.rstrip("/")
        self._frontend_url = frontend_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings, jobs: JobRunner) -> Mailer:
        transport = MailTransport.from_settings(settings)
        return cls(
            jobs,
            transport,
            app_url=settings.app_url,
            frontend_url=settings.frontend_url,
            show_links=settings.app_env == "development" and transport.mailer == "log",
        )

    # -- links --------------------------------------------------------------------------------

    def reset_link(self, email: str, token: str) -> str:
        return f"{self._frontend_url}/auth/reset-password?{urlencode({'token': token, 'email': email})}"

    def verification_link(self, token: str) -> str:
        return f"{self._app_url}/api/auth/verify/{quote(token, safe='')}"

    # -- messages -----------------------------------------------------------------------------

    async def send_password_reset(self, email: str, token: str, *, name: str | None = None) -> int:
        link = self.reset_link(email, token)
        hours = RESET_TTL_MINUTES // 60
        text = (
            f"{_greeting(name)}\n\n"
            "We received a request to reset the password of your account.\n"
            f"Choose a new password here (the link works for {hours} hours):\n\n"
            f"{link}\n\n"
            "If you did not ask for this, you can ignore this email; your password stays as it is.\n"
        )
        body = _html(
            name,
            "We received a request to reset the password of your account.",
            link,
            "Reset password",
            f"The link works for {hours} hours. If you did not ask for this, you can ignore this email.",
        )
        return await self.send(Message(email, "Reset your password", text, body, "password_reset", (token,)))

    async def send_verification(self, email: str, token: str, *, name: str | None = None) -> int:
        link = self.verification_link(token)
        text = (
            f"{_greeting(name)}\n\n"
            "Please confirm your email address by opening this link "
            f"(it works for {VERIFICATION_TTL_HOURS} hours):\n\n"
            f"{link}\n\n"
            "If you did not create an account, you can ignore this email.\n"
        )
        body = _html(
            name,
            "Please confirm your email address.",
            link,
            "Verify email address",
            f"The link works for {VERIFICATION_TTL_HOURS} hours. If you did not create an account, "
            "you can ignore this email.",
        )
        return await self.send(Message(email, "Verify your email address", text, body, "verification", (token,)))

    async def send(self, message: Message, *, idempotency_key: str | None = None) -> int:
        """Queue the message for delivery; returns the job id."""
        job_id = await self._jobs.submit(
            MAIL_JOB,
            payload(message, self._transport),
            idempotency_key=idempotency_key,
            max_attempts=MAIL_MAX_ATTEMPTS,
        )
        if self._show_links:
            # Development only, where a developer has no mailbox to open: the one place a
            # working link is written down (the outbox and any other environment redact it).
            log.info(
                "mail (development: not delivered)",
                extra={
                    "mail_to": message.to,
                    "subject": message.subject,
                    "kind": message.kind,
                    "links": links_in(message.text),
                    "job_id": job_id,
                },
            )
        return job_id


def payload(message: Message, transport: MailTransport) -> dict[str, Any]:
    """The `mail.send` job's payload."""
    return {
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "kind": message.kind,
        "secrets": list(message.secrets),
        "transport": asdict(transport),
    } | ({"headers": dict(message.headers)} if message.headers else {})


def _greeting(name: str | None) -> str:
    return f"Hello {name}," if name else "Hello,"


def _html(name: str | None, lead: str, link: str, button: str, note: str) -> str:
    e = html.escape
    return (
        "<!doctype html><html><body style=\"font-family: sans-serif; line-height: 1.5\">"
        f"<p>{e(_greeting(name))}</p><p>{e(lead)}</p>"
        f"<p><a href=\"{e(link)}\">{e(button)}</a></p>"
        f"<p>Or copy this address into your browser:<br>{e(link)}</p>"
        f"<p>{e(note)}</p></body></html>"
    )
