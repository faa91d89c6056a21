"""GitHub sign-in: the web application flow (code → access token) and the REST API's /user and
/user/emails, which also serve clients that bring their own access token.

A token a client brings is first checked against our OAuth app (GitHub's check-token API): any
GitHub app can get a token for its user, and a site that holds one for someone must not be able to
sign in here as them.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from domain.errors import BadRequest
from domain.oauth.profile import ProviderProfile, clean_avatar, clean_text
from domain.oauth.provider import OAuthProvider

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
# GitHub's token endpoint answers 200 with one of these when the credentials are the problem
CLIENT_ERRORS = frozenset({"incorrect_client_credentials", "unverified_user_email", "application_suspended"})

log = logging.getLogger("roost.oauth")


class GitHubOAuth(OAuthProvider):
    name, label, scope = "github", "GitHub", "read:user user:email"
    client_errors = CLIENT_ERRORS

    def __init__(self, *, token_url: str, api_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token_url = token_url
        self.api_url = api_url.rstrip("/")

    async def profile_from_code(self, code: str, redirect_uri: str | None = None) -> ProviderProfile:
        self.ensure_configured()
        async with self.session() as http:
            access_token = await self.exchange_code(http, code, redirect_uri)
            return await self.user(http, access_token)

    async def profile_from_access_token(self, access_token: str) -> ProviderProfile:
        self.ensure_configured()
        async with self.session() as http:
            await self.check_issued_to_us(http, access_token)
            return await self.user(http, access_token)

    async def check_issued_to_us(self, http: aiohttp.ClientSession, access_token: str) -> None:
        """POST /applications/{client_id}/token (basic auth with our client id and secret): 200 only
        for a live token GitHub issued to this OAuth app; 404 for any other token, ours expired or
        revoked included, and 422 for one it cannot read."""
        assert self.client_id is not None and self.client_secret is not None  # ensure_configured
        status, body = await self.call(
            http,
            "POST",
            f"{self.api_url}/applications/{quote(self.client_id, safe='')}/token",
            json={"access_token": access_token},
            auth=aiohttp.BasicAuth(self.client_id, self.client_secret),
            headers=API_HEADERS,
        )
        if status == 200 and isinstance(body, dict):
            app = body.get("app")
            # the path already names our client; a body naming another is not an answer to trust
            if isinstance(app, dict) and "client_id" in app and app["client_id"] != self.client_id:
                raise self.provider_error()
            return
        if status in (404, 422):
            raise BadRequest("Invalid or expired GitHub access token.", code="oauth_invalid_token")
        if status == 401:
            log.error("GitHub rejected the OAuth client credentials at check-token")
            raise BadRequest("GitHub rejected this application's OAuth credentials.", code="oauth_client_rejected")
        raise self.provider_error()

    async def user(self, http: aiohttp.ClientSession, access_token: str) -> ProviderProfile:
        auth = {**API_HEADERS, "Authorization": f"Bearer {access_token}"}
        status, body = await self.call(http, "GET", f"{self.api_url}/user", headers=auth)
        if status in (401, 403):
            raise BadRequest("Invalid or expired GitHub access token.", code="oauth_invalid_token")
        if status != 200 or not isinstance(body, dict):
            raise self.provider_error()
        user_id = self.need_text(body, "id")
        status, emails = await self.call(http, "GET", f"{self.api_url}/user/emails", headers=auth)
        email = _verified_email(emails) if status == 200 else None
        if email is None:
            # a token without the user:email scope cannot show which addresses are verified
            raise BadRequest(
                "GitHub did not share a verified email address (the user:email scope is needed).",
                code="oauth_email_unverified",
            )
        login = clean_text(body.get("login"))
        return ProviderProfile(
            provider=self.name,
            provider_user_id=user_id,
            email=email,
            name=clean_text(body.get("name")),
            avatar=clean_avatar(body.get("avatar_url")),
            username=login,
        )


def _verified_email(emails: Any) -> str | None:
    """The primary address if verified, else the first verified one."""
    if not isinstance(emails, list):
        return None
    verified = [
        e for e in emails if isinstance(e, dict) and e.get("verified") is True and isinstance(e.get("email"), str)
    ]
    for entry in verified:
        if entry.get("primary") is True:
            return clean_text(entry["email"])
    return clean_text(verified[0]["email"]) if verified else None
