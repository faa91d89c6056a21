"""001 tenant settings: /tenant/settings (theme, limits, legal links) and its logo.

Checks, in order: the token and its ability (401/403: reading needs `tenant:read`, every write
`settings:write`), the tenant's per-minute budget (429), then the body (422; 413 for a logo past
its cap). Every query is scoped to the caller's tenant, so each tenant reads and writes its own
settings only; super admins read any tenant's at /tenants/{tenant}/settings, as they read its
ledger. The rules are domain/tenant_settings.py's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import IO

from aiohttp import web

from domain import tenant_settings as rules
from domain.errors import Invalid
from domain.tenant_abilities import SETTINGS_WRITE
from domain.tenant_abilities import TENANT_READ as TENANT_READ_ABILITY
from gateway.events.common_schemas import Item
from gateway.events.envelope import success
from gateway.events.guards import require_super_admin, require_tenant
from gateway.events.openapi import RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.settings_models import SettingsPublic, SettingsUpdate
from gateway.kernel.keys import clock_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented, file_upload
from gateway.kernel.validation import path_id, read_body, read_form, validate

FIELD = "file"
_TENANT_ERRORS = (403, 429)
LOGO_FORM = file_upload(
    FIELD,
    f"A JPEG, PNG or WebP image of at most {rules.MAX_LOGO_BYTES // (1024 * 1024)} MB "
    f"(served re-encoded as a JPEG of at most {rules.LOGO_LONGEST_SIDE} px, without metadata).",
)


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC)


def _render(request: web.Request, row) -> web.Response:
    app_url = request.config_dict[settings_key].app_url
    return success(Item(data=SettingsPublic.from_row(row, app_url)))


@documented(
    "Show the tenant's settings",
    response=Item[SettingsPublic],
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def show_settings(request: web.Request) -> web.Response:
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    return _render(request, await rules.read(request.config_dict[pool_key], caller.tenant_id))


async def _write(request: web.Request, *, replace: bool) -> web.Response:
    caller = await require_tenant(request, SETTINGS_WRITE)
    body = validate(SettingsUpdate, await read_body(request))
    row = await rules.update(
        request.config_dict[pool_key], caller.tenant_id, body.change(replace=replace), _now(request)
    )
    return _render(request, row)


_WRITE_DESCRIPTION = (
    "Colours are `#RGB` or `#RRGGBB` (answered as lowercase `#rrggbb`); limits at most the "
    "package's (422 `limit_above_package`, meta `{field, value, package_limit}`); legal links absolute "
    "https URLs. Unknown keys are 422. The guest event and the public gallery show the result in `branding`."
)


@documented(
    "Change some of the tenant's settings",
    description="Only the keys sent change; null clears one. " + _WRITE_DESCRIPTION,
    response=Item[SettingsPublic],
    body=SettingsUpdate,
    auth=TENANT_WRITE,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def patch_settings(request: web.Request) -> web.Response:
    return await _write(request, replace=False)


@documented(
    "Replace the tenant's settings",
    description="Everything not sent is cleared (the logo stays: it has its own route). " + _WRITE_DESCRIPTION,
    response=Item[SettingsPublic],
    body=SettingsUpdate,
    auth=TENANT_WRITE,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def put_settings(request: web.Request) -> web.Response:
    return await _write(request, replace=True)


def _head(file: IO[bytes]) -> bytes:
    """Up to one byte past the cap: enough to know the file is too large."""
    file.seek(0)
    return file.read(rules.MAX_LOGO_BYTES + 1)


async def _logo_bytes(request: web.Request) -> bytes:
    if request.content_type != "multipart/form-data":
        raise Invalid(fields={FIELD: ["The file field is required (multipart/form-data)."]})
    part = (await read_form(request)).get(FIELD)
    if not isinstance(part, web.FileField):  # absent, or a text field named file
        raise Invalid(fields={FIELD: ["The file must be an uploaded image."]})
    return await asyncio.to_thread(_head, part.file)


@documented(
    "Upload the tenant's logo",
    description="Replaces any earlier logo. Re-encoded, never served as uploaded: no EXIF or other metadata "
    "is kept. Anything but a JPEG, PNG or WebP image is 422 `invalid_image`; past the size cap 413.",
    response=Item[SettingsPublic],
    upload=LOGO_FORM,
    auth=TENANT_WRITE,
    errors=(*_TENANT_ERRORS, 400, 413),
    headers_out=RATE_LIMITED,
)
async def upload_logo(request: web.Request) -> web.Response:
    caller = await require_tenant(request, SETTINGS_WRITE)
    data = await _logo_bytes(request)
    settings = request.config_dict[settings_key]
    row = await rules.replace_logo(
        request.config_dict[pool_key],
        rules.logo_store(settings.media_dir),
        caller.tenant_id,
        data,
        max_pixels=settings.event_photo_max_pixels,
        now=_now(request),
    )
    return _render(request, row)


@documented(
    "Remove the tenant's logo",
    description="Idempotent: without a logo it answers the settings unchanged.",
    response=Item[SettingsPublic],
    auth=TENANT_WRITE,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def delete_logo(request: web.Request) -> web.Response:
    caller = await require_tenant(request, SETTINGS_WRITE)
    settings = request.config_dict[settings_key]
    row = await rules.remove_logo(
        request.config_dict[pool_key], rules.logo_store(settings.media_dir), caller.tenant_id, _now(request)
    )
    return _render(request, row)


@documented(
    "Show a tenant's settings (super admins)",
    response=Item[SettingsPublic],
    auth=TENANT_READ,
    errors=(403, 404),
    path_params={"tenant": "The tenant's id."},
)
async def admin_settings(request: web.Request) -> web.Response:
    require_super_admin(request)
    tenant_id = path_id(request, "tenant")
    return _render(request, await rules.read(request.config_dict[pool_key], tenant_id))
