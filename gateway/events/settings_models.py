"""Request and response models of 001's tenant settings (/tenant/settings). The rules behind the
validators are domain/tenant_settings.py's; unknown keys are refused at every level (422), so a
typo never reads as a silent no-op."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from domain import tenant_settings as rules
from gateway.events.common_schemas import Moment
from gateway.events.event_views import LegalLinks, logo_url

HexColor = Annotated[
    StrictStr,
    Field(max_length=7, examples=["#e11d48"], description="`#RGB` or `#RRGGBB`; stored as lowercase `#rrggbb`."),
    AfterValidator(rules.normalized_hex),
]
HttpsUrl = Annotated[
    StrictStr,
    Field(
        max_length=rules.MAX_URL_LENGTH,
        examples=["https://example.com/imprint"],
        description="An absolute https URL without user info; null clears it.",
    ),
    AfterValidator(rules.checked_https_url),
]
_STRICT = ConfigDict(extra="forbid")


class ThemeIn(BaseModel):
    """Colours; null puts one back to the default. `logo_url` is not set here (upload the logo)."""

    model_config = _STRICT

    primary_color: HexColor | None = None
    secondary_color: HexColor | None = None
    accent_color: HexColor | None = None
    background_color: HexColor | None = None
    text_color: HexColor | None = None


class LimitsIn(BaseModel):
    """The tenant's own limits, at most its package's (422 `limit_above_package`); null: the package's."""

    model_config = _STRICT

    photo_limit: StrictInt | None = Field(default=None, ge=1, le=2**31 - 1, description="Photos per event.")
    gallery_days: StrictInt | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Days the public gallery stays open after the event."
    )


class LegalIn(BaseModel):
    model_config = _STRICT

    imprint_url: HttpsUrl | None = None
    privacy_url: HttpsUrl | None = None
    terms_url: HttpsUrl | None = None


class SettingsUpdate(BaseModel):
    """PATCH: only the keys sent change. PUT: the whole settings; whatever is left out is cleared."""

    model_config = _STRICT

    theme: ThemeIn = Field(default_factory=ThemeIn)
    limits: LimitsIn = Field(default_factory=LimitsIn)
    legal: LegalIn = Field(default_factory=LegalIn)

    def change(self, *, replace: bool) -> rules.SettingsChange:
        if replace:
            return rules.SettingsChange.replacing(
                self.theme.model_dump(), self.limits.model_dump(), self.legal.model_dump()
            )

        def sent(section: BaseModel) -> dict[str, Any]:
            return {name: getattr(section, name) for name in section.model_fields_set}

        return rules.SettingsChange(theme=sent(self.theme), limits=sent(self.limits), legal=sent(self.legal))


class ThemePublic(BaseModel):
    """The colours the tenant set (null: the guest pages' default) and its logo."""

    primary_color: str | None = Field(examples=["#e11d48"], description="null: the default #E11D48.")
    secondary_color: str | None = Field(examples=["#fff1f2"], description="null: the default #FFF1F2.")
    accent_color: str | None
    background_color: str | None
    text_color: str | None
    logo_url: str | None = Field(description="Read-only here: POST /tenant/settings/logo sets it, DELETE clears it.")


class PackageLimits(BaseModel):
    photo_limit: int
    gallery_days: int
    event_limit: int | None = Field(description="Events that are not archived at once; null: unlimited.")


class EffectiveLimits(BaseModel):
    photo_limit: int = Field(description="What photo uploads are counted against, per event.")
    gallery_days: int = Field(description="What the gallery window is.")


class LimitsPublic(BaseModel):
    photo_limit: int | None = Field(description="The tenant's choice; null: the package's.")
    gallery_days: int | None = Field(description="The tenant's choice; null: the package's.")
    package: PackageLimits = Field(description="The bounds: the tenant's package.")
    effective: EffectiveLimits = Field(description="The smaller of the choice and the package's.")


class SettingsPublic(BaseModel):
    theme: ThemePublic
    limits: LimitsPublic
    legal: LegalLinks
    updated_at: Moment | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], app_url: str) -> SettingsPublic:
        theme = row["theme"] if isinstance(row["theme"], dict) else {}
        colours = {name: theme[name] if isinstance(theme.get(name), str) else None for name in rules.THEME_COLORS}
        legacy_logo = theme.get("logo_url") if isinstance(theme.get("logo_url"), str) else None
        package = PackageLimits(
            photo_limit=row["package_photo_limit"],
            gallery_days=row["package_gallery_days"],
            event_limit=row["package_event_limit"],
        )
        chosen = {name: row[name] for name in rules.LIMITS}
        effective = {name: min(v, getattr(package, name)) if v is not None else getattr(package, name)
                     for name, v in chosen.items()}
        updated_at: datetime | None = row["updated_at"]
        return cls(
            theme=ThemePublic(**colours, logo_url=logo_url(app_url, row["logo_key"]) or legacy_logo),
            limits=LimitsPublic(**chosen, package=package, effective=EffectiveLimits(**effective)),
            legal=LegalLinks.from_row(row),
            updated_at=updated_at,
        )
