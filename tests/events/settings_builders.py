"""Builders for 001's settings tests: a tenant admin on a package of chosen limits, and the
settings and logo requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import FormData

from tests.builders import bearer
from tests.event_builders import make_package, make_tenant, make_tenant_admin

SETTINGS = "/api/v1/tenant/settings"
LOGO = SETTINGS + "/logo"


async def tenant_admin(client, *, photo_limit: int = 100, gallery_days: int = 30, **kwargs):
    """A tenant on a package of its own with these limits, and a token of its admin (every ability)."""
    package = await make_package(client.app, photo_limit=photo_limit, gallery_days=gallery_days)
    tenant = await make_tenant(client.app, package=package["slug"], **kwargs)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    return tenant, token


async def patch_settings(client, token, body):
    return await client.patch(SETTINGS, json=body, headers=bearer(token))


async def data_of(resp, status: int = 200):
    assert resp.status == status, await resp.text()
    return (await resp.json())["data"]


def logo_form(data: bytes, *, name: str = "logo.jpg", field: str = "file") -> FormData:
    form = FormData()
    form.add_field(field, data, filename=name, content_type="application/octet-stream")
    return form


async def upload_logo(client, token, data: bytes, **kwargs):
    return await client.post(LOGO, data=logo_form(data, **kwargs), headers=bearer(token))


def local_path(url: str) -> str:
    """An absolute media URL as a path for the test client (which has its own host)."""
    return urlsplit(url).path
