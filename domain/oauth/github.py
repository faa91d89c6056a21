"""GitHub sign-in: the web application flow (code → access token) and the REST API's /user and
/user/emails, which also serve clients that bring their own access token."""

from __future__ import annotations

from typing import Any

import aiohttp

from domain.errors import BadRequest
from domain.oauth.profile import ProviderProfile, clean_avatar, clean_text
from domain.oauth.provider import OAuthProvider


API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
# GitHub's token endpoint answers 200 with one of these when the credentials are the problem
CLIENT_ERRORS = frozenset({"incorrect_client_credentials", "unverified_user_email", "application_suspended"})


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
            return await self.user(http, access_token)

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
