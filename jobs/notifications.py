"""`notifications.deliver`: deliver one tenant alert (domain/notifications.py) by mail and, when
the tenant configured one, to its webhook.

Payload: `{notification_id, transport, webhook: {allow_private, allow_http, timeout_s}}`; the
alert, the recipient and the webhook URL and secret are read from their rows at delivery time, so
the jobs table holds no secret and a changed address is used by the next attempt.

Each attempt records itself on the alert: `sending` with the attempt's number, then each
channel's outcome (`channels`), then delivered, pending (a retry follows with the job runtime's
exponential backoff; the job's run_after is the alert's next_attempt_at) or failed (attempts used
up, or only refusals that no retry changes: an SSRF-refused URL, a 5xx SMTP refusal). A channel
already delivered is not sent again by a retry; a receiver sees the same X-Roost-Notification-Id
on every retry of one alert and deduplicates by it.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver, ResolveResult

from domain import notifications as rules
from domain.mailer import MailTransport, Message
from domain.mailer import payload as mail_payload
from domain.notification_webhooks import SIGNATURE_HEADER, RefusedUrl, UrlPolicy, check_url, resolve_checked, signature
from jobs import mail
from jobs.registry import JobContext, PermanentJobError, job
from storage import notifications as store

log = logging.getLogger(__name__)

KIND = rules.JOB_KIND
# what is kept of an error for the tenant's log (the row's column holds 2000)
MAX_ERROR_CHARS = 500


class _Permanent(Exception):
    """A channel's refusal that a retry would meet again."""


def _check(payload: Any) -> tuple[int, dict[str, Any], UrlPolicy, float]:
    try:
        webhook = payload["webhook"]
        policy = UrlPolicy(allow_private=bool(webhook["allow_private"]), allow_http=bool(webhook["allow_http"]))
        return int(payload["notification_id"]), dict(payload["transport"]), policy, float(webhook["timeout_s"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError(f"bad {KIND} payload: {exc!r}") from None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class _PinnedResolver(AbstractResolver):
    """Answers only the addresses resolve_checked approved, so the connection cannot go to a
    second, different DNS answer (rebinding)."""

    def __init__(self, addresses: list[tuple[socket.AddressFamily, str]]) -> None:
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=address, port=port, family=fam, proto=0, flags=socket.AI_NUMERICHOST)
            for fam, address in self._addresses
        ]

    async def close(self) -> None:
        return None


async def _post_webhook(
    row: Any, url: str, secret: str, policy: UrlPolicy, timeout_s: float, attempt: int
) -> int:
    try:
        host, port = check_url(url, policy)
        addresses = await resolve_checked(host, port, policy)
    except RefusedUrl as exc:
        raise _Permanent(str(exc)) from None
    body = orjson.dumps(
        {
            "id": row["id"],
            "type": row["type"],
            "tenant_id": row["tenant_id"],
            "event_id": row["event_id"],
            "created_at": row["created_at"].isoformat(),
            "data": row["payload"],
        }
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Roost-Notifications/1",
        SIGNATURE_HEADER: signature(secret, body, timestamp),
        "X-Roost-Timestamp": str(timestamp),
        "X-Roost-Notification-Id": str(row["id"]),
        "X-Roost-Notification-Type": row["type"],
        "X-Roost-Attempt": str(attempt),
    }
    connector = aiohttp.TCPConnector(resolver=_PinnedResolver(addresses), force_close=True)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s), trust_env=False
    ) as session:
        # redirects are not followed: a 3xx could point anywhere, past every check above
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
            if not 200 <= resp.status < 300:
                raise RuntimeError(f"the webhook answered HTTP {resp.status}")
            return resp.status


async def _send_mail(row: Any, to: str, transport: dict[str, Any], ctx: JobContext) -> None:
    subject, text = rules.describe(row["type"], row["payload"])
    message = Message(to=to, subject=subject, text=text + "\n", html=None, kind=f"notification.{row['type']}")
    try:
        await mail.deliver(mail_payload(message, MailTransport(**transport)), ctx)
    except PermanentJobError as exc:
        raise _Permanent(str(exc)) from None


@job(KIND)
async def deliver(payload: Any, ctx: JobContext) -> dict[str, Any]:
    notification_id, transport, policy, timeout_s = _check(payload)
    conn = ctx.conn
    row = await store.start_attempt(conn, notification_id, ctx.attempt)
    if row is None:
        return {"notification_id": notification_id, "outcome": "already finished or gone"}
    config = await store.settings(conn, row["tenant_id"])
    channels: dict[str, Any] = dict(row["channels"] or {})
    recipient = config["email"] or config["default_email"]
    plan: list[tuple[rules.Channel, str]] = []
    if recipient:
        plan.append((rules.Channel.EMAIL, recipient))
    if config["webhook_url"] and config["webhook_secret"]:
        plan.append((rules.Channel.WEBHOOK, config["webhook_url"]))
    if not plan:
        await store.finish(conn, notification_id, status=rules.NotificationStatus.FAILED, last_error="no recipient")
        raise PermanentJobError("the tenant has no mail address and no webhook for its alerts")

    errors: list[str] = []
    retryable = False
    for channel, target in plan:
        if channels.get(channel, {}).get("status") == rules.NotificationStatus.DELIVERED:
            continue
        state: dict[str, Any] = {"target": target}
        try:
            if channel is rules.Channel.EMAIL:
                await _send_mail(row, target, transport, ctx)
            else:
                state["http_status"] = await _post_webhook(
                    row, target, config["webhook_secret"], policy, timeout_s, ctx.attempt
                )
            state |= {"status": "delivered", "delivered_at": datetime.now(UTC).isoformat()}
        except _Permanent as exc:
            state |= {"status": "failed", "error": _short(exc), "permanent": True}
            errors.append(f"{channel}: {_short(exc)}")
        except Exception as exc:  # a network error, a timeout, a non-2xx answer: worth retrying
            state |= {"status": "failed", "error": _short(exc)}
            errors.append(f"{channel}: {_short(exc)}")
            retryable = True
        await store.set_channel(conn, notification_id, channel, state)

    if not errors:
        await store.finish(conn, notification_id, status=rules.NotificationStatus.DELIVERED, last_error=None)
        return {"notification_id": notification_id, "outcome": "delivered"}
    last_error = "; ".join(errors)
    if not retryable or ctx.last_attempt:
        await store.finish(conn, notification_id, status=rules.NotificationStatus.FAILED, last_error=last_error)
        log.warning("notification failed", extra={"notification_id": notification_id, "error": last_error})
        raise PermanentJobError(last_error)
    await store.finish(conn, notification_id, status=rules.NotificationStatus.PENDING, last_error=last_error)
    raise RuntimeError(last_error)
