"""Signing a user out everywhere: every credential but the one the caller keeps.

What a password reset, "sign out everywhere" on /developer and an OAuth merge into an existing
account share. Credentials live in two places: JWTs and personal access tokens in PostgreSQL
(`Accounts.revoke_credentials`, which also evicts every gateway's token cache through Redis), and
browser sessions in Redis (`SessionStore`, through its per-user index).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.helpers import ChainMapProxy

from gateway.kernel.keys import accounts_key, sessions_key


async def revoke_credentials(
    app: web.Application | ChainMapProxy,
    user_id: int,
    *,
    keep_session_id: str | None = None,
    keep_token_id: int | None = None,
) -> None:
    """Voids the user's JWTs (the token epoch moves on), deletes every personal access token but
    `keep_token_id` (login, OAuth, integration, tenant and connector tokens alike) and destroys
    every browser session but `keep_session_id`. Every gateway refuses them once this returns.

    `app` is the root application or a request's `config_dict` (a sub-application does not see
    the root's resources: pass `request.config_dict` from a handler).
    """
    await app[accounts_key].revoke_credentials(user_id, keep_token_id=keep_token_id)
    await app[sessions_key].destroy_all_for_user(user_id, keep_session_id=keep_session_id)
