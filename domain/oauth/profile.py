"""What a provider told us about the person signing in, in one shape for every provider."""

from __future__ import annotations

from dataclasses import dataclass

# Column limits of `users` (0003_identity.sql); a provider value that does not fit is cut or dropped.
MAX_TEXT = 255
MAX_AVATAR = 2048


@dataclass(frozen=True)
class ProviderProfile:
    provider: str  # 'google' | 'github'
    provider_user_id: str
    # Always an address the provider has verified: the clients refuse unverified ones, because an
    # account with the same email is signed in (and linked) on the strength of it.
    email: str
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    avatar: str | None = None
    # the provider's handle (GitHub's login); Google has none
    username: str | None = None


def clean_text(value: object, limit: int = MAX_TEXT) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


def clean_avatar(value: object) -> str | None:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > MAX_AVATAR:
        return None
    return value
