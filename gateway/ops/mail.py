"""`roost mail tail`: the mail written down instead of sent (MAIL_MAILER=log, `mail_outbox`).

One-time links are redacted there (domain/mailer.py); in development the gateway's log prints
each message with its working links as it is sent."""

from __future__ import annotations

import click

from domain.mailer import links_in
from gateway.ops.context import OpsContext, pass_ops
from storage import mail_outbox


@click.group("mail", help="mail written down instead of sent (MAIL_MAILER=log)")
def mail() -> None:
    pass


@mail.command("tail", help="print the newest messages, oldest first")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@pass_ops
def mail_tail(ops: OpsContext, limit: int) -> int:
    async def work() -> int:
        async with ops.pool(read_only=True) as pool, pool.acquire() as conn:
            rows = await mail_outbox.newest(conn, limit)
        for r in rows:
            links = " ".join(links_in(r["body_text"])) or "-"
            print(f"{r['created_at'].isoformat()} to={r['to_address']} kind={r['kind']} subject={r['subject']!r}")
            print(f"    links: {links}")
        return 0

    return ops.run(work())
