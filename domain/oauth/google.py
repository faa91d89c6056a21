"""Google sign-in: the authorization code flow (token endpoint + OpenID userinfo) and Google
Identity Services credentials (ID tokens checked at the tokeninfo endpoint)."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from domain.errors import BadRequest
from domain.oauth.profile import ProviderProfile, clean_avatar, clean_text
from domain.oauth.provider import OAuthProvider

# The issuers Google signs ID tokens as (both forms occur).
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})


def _truthy(value: Any) -> bool:
    # userinfo says true, tokeninfo says "true"
    return value is True or value == "true"


class GoogleOAuth(OAuthProvider):
    name, label, scope = "google", "Google", "openid email profile"
    extra_token_params = {"grant_type": "authorization_code"}
    client_errors = frozenset({"invalid_client", "unauthorized_client"})

    def __init__(self, *, token_url: str, userinfo_url: str, tokeninfo_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token_url = token_url
        self.userinfo_url = userinfo_url
        self.tokeninfo_url = tokeninfo_url

    async def profile_from_code(self, code: str, redirect_uri: str | None = None) -> ProviderProfile:
        """An authorization code (browser callback or a client that ran the consent itself)."""
        self.ensure_configured()
        async with self.session() as http:
            access_token = await self.exchange_code(http, code, redirect_uri)
            return await self.userinfo(http, access_token)

    async def profile_from_id_token(self, credential: str) -> ProviderProfile:
        """A Google Identity Services credential (an ID token), verified by Google's tokeninfo."""
        self.ensure_configured()
        async with self.session() as http:
            status, claims = await self.call(http, "GET", self.tokeninfo_url, params={"id_token": credential})
        if status != 200 or not isinstance(claims, dict):
            raise BadRequest("Invalid or expired Google credential.", code="oauth_invalid_credential")
        # tokeninfo checks the signature and expiry; whom the token was issued to is ours to check
        # (a token minted for another site must not sign anyone in here).
        if claims.get("aud") != self.client_id:
            raise BadRequest(
                "The Google credential was not issued for this application.", code="oauth_wrong_audience"
            )
        if "iss" in claims and claims["iss"] not in GOOGLE_ISSUERS:
            raise BadRequest("Invalid or expired Google credential.", code="oauth_invalid_credential")
        try:
            expired = "exp" in claims and int(claims["exp"]) < time.time()
        except (TypeError, ValueError):
            expired = True
        if expired:
            raise BadRequest("Invalid or expired Google credential.", code="oauth_invalid_credential")
        return self._profile(claims, verified=_truthy(claims.get("email_verified")))

    async def userinfo(self, http: aiohttp.ClientSession, access_token: str) -> ProviderProfile:
        status, body = await self.call(
            http, "GET", self.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}
        )
        if status in (400, 401, 403):
            raise BadRequest("Invalid or expired Google access token.", code="oauth_invalid_token")
        if status != 200 or not isinstance(body, dict):
            raise self.provider_error()
        # OpenID Connect says email_verified; Google's older v2 userinfo says verified_email
        verified = _truthy(body.get("email_verified", body.get("verified_email")))
        return self._profile(body, verified=verified)

    def _profile(self, claims: dict[str, Any], *, verified: bool) -> ProviderProfile:
        subject = self.need_text(claims, "sub" if "sub" in claims else "id")
        email = clean_text(claims.get("email"))
        if not email:
            raise BadRequest("Google did not share an email address.", code="oauth_email_missing")
        if not verified:
            raise BadRequest("Your Google email address is not verified.", code="oauth_email_unverified")
        return ProviderProfile(
            provider=self.name,
            provider_user_id=subject,
            email=email,
            name=clean_text(claims.get("name")),
            first_name=clean_text(claims.get("given_name")),
            last_name=clean_text(claims.get("family_name")),
            avatar=clean_avatar(claims.get("picture")),
        )
