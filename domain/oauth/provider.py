"""What Google and GitHub sign-in have in common: credentials, the authorize URL, and HTTP calls
with timeouts whose failures become 400s a client can act on.

Each sign-in opens its own short-lived ClientSession: sign-ins are rare next to the rest of the
traffic, and this keeps the clients free of app lifecycle wiring (002's router has no cleanup
context to close a shared one in).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson
from yarl import URL

from domain.errors import BadRequest, ServiceUnavailable
from domain.oauth.profile import ProviderProfile

log = logging.getLogger("roost.oauth")

# A provider that has not answered in this long is not going to; the person retries.
TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
# Nothing a provider returns for sign-in comes near this; a bigger body is not theirs.
MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "Roost-OAuth/1.0"


class OAuthProvider:
    name: str = ""
    label: str = ""
    scope: str = ""
    # set by subclasses: the token endpoint (in __init__), what else it wants in the exchange, and
    # the `error` values that mean our client credentials are the problem (not the person's code)
    token_url: str = ""
    extra_token_params: dict[str, str] = {}
    client_errors: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str,
        authorize_url: str,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.authorize_endpoint = authorize_url
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def ensure_configured(self) -> None:
        """503 until the operator sets the client id and secret: the feature is off, not broken."""
        if not self.configured:
            log.warning("%s OAuth is not configured (client id/secret unset)", self.label)
            raise ServiceUnavailable(f"{self.label} OAuth is not configured.", code="oauth_not_configured")

    def authorize_url(self, state: str, redirect_uri: str | None = None) -> str:
        """Where the browser goes to ask the person for consent."""
        self.ensure_configured()
        assert self.client_id is not None  # ensure_configured
        params = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri or self.redirect_uri,
            "response_type": "code",
            "scope": self.scope,
            "state": state,
        }
        return str(URL(self.authorize_endpoint).update_query(params))

    async def profile_from_code(self, code: str, redirect_uri: str | None = None) -> ProviderProfile:
        raise NotImplementedError

    async def exchange_code(self, http: aiohttp.ClientSession, code: str, redirect_uri: str | None) -> str:
        """The access token for an authorization code; a refused code or client is a 400."""
        status, body = await self.call(
            http,
            "POST",
            self.token_url,
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code": code,
                **self.extra_token_params,
                "redirect_uri": redirect_uri or self.redirect_uri,
            },
            # GitHub answers form-encoded without it, and reports errors as 200s
            headers={"Accept": "application/json"},
        )
        if status == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
            return body["access_token"]
        error = body.get("error") if isinstance(body, dict) else None
        if error in self.client_errors:
            # our configuration, not the person's code: worth an operator's attention
            log.error("%s rejected the OAuth client credentials (%s)", self.label, error)
            raise BadRequest(
                f"{self.label} rejected this application's OAuth credentials.", code="oauth_client_rejected"
            )
        if error == "redirect_uri_mismatch":
            raise BadRequest(
                "The redirect_uri does not match the one used to obtain the code.", code="oauth_redirect_mismatch"
            )
        raise BadRequest(f"Invalid or expired {self.label} authorization code.", code="oauth_invalid_code")

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=self.timeout, headers={"User-Agent": USER_AGENT})

    async def call(self, http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, parsed JSON body or None). Unreachable or garbled → 400 naming the provider."""
        try:
            async with http.request(method, url, allow_redirects=False, **kwargs) as resp:
                raw = await resp.content.read(MAX_RESPONSE_BYTES + 1)
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("%s OAuth call failed: %s %s: %r", self.label, method, URL(url).with_query(None), exc)
            raise self.provider_error() from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise self.provider_error()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        if status >= 500:
            log.warning("%s OAuth answered %s: %s", self.label, status, URL(url).with_query(None))
            raise self.provider_error()
        return status, body

    def provider_error(self) -> BadRequest:
        return BadRequest(
            f"{self.label} could not complete the sign-in; try again.", code="oauth_provider_error"
        )

    def need_text(self, body: Any, key: str) -> str:
        """A required string field of a provider's answer (400 when the answer lacks it)."""
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            log.warning("%s OAuth answer without %r", self.label, key)
            raise self.provider_error()
        return value
