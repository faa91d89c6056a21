"""003's success bodies (the `data` inside the /api envelope) as pydantic models: the OpenAPI
components of the accounts document, and what the handlers build and render.

The user inside them is the shared `UserPublic` (gateway/kernel/account_views.py), which 000's
/api/users/me shows too; the public profile is `PublicProfile` from the same module.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.kernel.account_views import UserPublic
from gateway.kernel.api_envelope import ApiError, QuotaExceeded

# The /api mount's daily quota (000's, gateway/pethealth/quota.py) counts 003's signed-in requests
# too, so its 429 body is one of 003's answers as well.

Provider = Literal["google", "github"]


class _Exact(BaseModel):
    """A body with exactly its fields (additionalProperties: false in the document)."""

    model_config = ConfigDict(extra="forbid")


def render(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON-ready dict `api_envelope.success` takes."""
    return model.model_dump(mode="json")


class UserToken(_Exact):
    """A sign-in's answer: the account and a new personal access token for it."""

    user: UserPublic
    token: str = Field(description="A personal access token, `<id>|<secret>`: send it as `Authorization: Bearer`.")


class VerifiedUser(_Exact):
    """The account whose address a verification link just confirmed."""

    user: UserPublic


class AvatarUploaded(_Exact):
    avatar_url: str = Field(description="Absolute URL of the stored avatar image.")


class ProviderLinks(_Exact):
    """The account after a provider was linked or unlinked, with the providers still linked."""

    user: UserPublic
    provider: Provider = Field(description="The provider just linked or unlinked.")
    providers: list[Provider] = Field(description="Every provider linked to the account now.")


class OAuthCallbackQuery(BaseModel):
    """What the provider appends to the callback URL."""

    code: str | None = Field(default=None, description="The authorization code, on consent.")
    state: str | None = Field(default=None, description="The state the redirect issued (usable once).")
    error: str | None = Field(default=None, description="The provider's error code, when consent was not given.")


class AccountsError(ApiError):
    """Every error body of 003's routes: the /api error envelope, nothing added at the top level."""

    model_config = ConfigDict(extra="forbid")

    data: QuotaExceeded | None = Field(description="Null, except on the daily quota's 429.")
