"""The configured OAuth provider clients, built from settings (both /api and 002 use them)."""

from __future__ import annotations

from domain.oauth import GitHubOAuth, GoogleOAuth, OAuthProvider
from domain.settings import Settings

PROVIDERS = ("google", "github")
# the path segment the routes accept for {provider}
PROVIDER_PATTERN = "google|github"


def callback_url(settings: Settings, provider: str, *, link: bool = False) -> str:
    """Where the provider sends the browser back to (the login callback unless GOOGLE_REDIRECT /
    GITHUB_REDIRECT say otherwise; the link callback is always ours)."""
    base = settings.app_url.rstrip("/")
    if link:
        return f"{base}/api/auth/link/{provider}/callback"
    configured = settings.google_redirect if provider == "google" else settings.github_redirect
    return configured or f"{base}/api/auth/{provider}/callback"


def google(settings: Settings) -> GoogleOAuth:
    return GoogleOAuth(
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        redirect_uri=callback_url(settings, "google"),
        authorize_url=settings.google_oauth_authorize_url,
        token_url=settings.google_oauth_token_url,
        userinfo_url=settings.google_oauth_userinfo_url,
        tokeninfo_url=settings.google_tokeninfo_url,
    )


def github(settings: Settings) -> GitHubOAuth:
    return GitHubOAuth(
        client_id=settings.github_client_id,
        client_secret=settings.github_client_secret,
        redirect_uri=callback_url(settings, "github"),
        authorize_url=settings.github_oauth_authorize_url,
        token_url=settings.github_oauth_token_url,
        api_url=settings.github_api_url,
    )


def provider(settings: Settings, name: str) -> OAuthProvider:
    if name == "google":
        return google(settings)
    if name == "github":
        return github(settings)
    raise KeyError(name)
