"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the mail tests.

The fixtures `smtp_inbox` and `mail_client` reach every test through tests/conftest.py's
`pytest_plugins`: take them as arguments, never import them.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from domain.settings import Settings
from tests.waiting import eventually

FRONTEND_URL = "http://spa.example.test"
LINK = re.compile(r"https?://[^\s<>\"]+")
MAIL_WAIT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None

    def links(self) -> list[str]:
        return LINK.findall(self.text)


class Inbox:
    """aiosmtpd handler: accepts everything except recipients containing `refuse` (550)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.logins: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if "refuse" in address:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticator(self, server, session, envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((user, password))
            ok = (user, password) == ("mailer", "s3cret-from-env")
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    def messages_to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_tos)]

    async def wait_for(self, address: str, count: int = 1, timeout: float = MAIL_WAIT_S) -> list[Received]:
        """The first `count` messages to `address`, waiting for them to arrive."""

        def arrived() -> list[Received]:
            found = self.messages_to(address)
            return found if len(found) >= count else []

        return await eventually(arrived, timeout=timeout, interval=0.05, what=f"{count} message(s) to {address}")


def start_inbox(port: int | None = None, **smtp: Any) -> tuple[Inbox, Controller]:
    inbox = Inbox()
    inbox.port = port or free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=inbox.port, authenticator=inbox.authenticator, auth_require_tls=False, **smtp
    )
    controller.start()
    return inbox, controller


@pytest.fixture
def smtp_inbox():
    inbox, controller = start_inbox()
    yield inbox
    controller.stop()


def mail_settings(settings: Settings, inbox: Inbox, **overrides: Any) -> Settings:
    """The test settings, sending mail over plain SMTP to `inbox`."""
    update = dict(
        mail_mailer="smtp",
        mail_host=inbox.host,
        mail_port=inbox.port,
        mail_encryption="none",
        mail_username=None,
        frontend_url=FRONTEND_URL,
    )
    update.update(overrides)
    return settings.model_copy(update=update)


@pytest.fixture
async def mail_client(aiohttp_client, settings: Settings, ray_session, smtp_inbox: Inbox):
    """The whole app, with its mail going to `smtp_inbox`."""
    from gateway.app import create_app

    return await aiohttp_client(create_app(mail_settings(settings, smtp_inbox)))
