"""/docs (Swagger UI) and /scalar (Scalar) in a real browser against the real app on a real port:
each renders 002's document first, switches to another contract's document through its selector,
and asks for nothing beyond loopback (the pages must work on a machine with no internet).

The browser, server and page fixtures are test_browser.py's (Debian's chromium, skipped when
absent; a console error or an uncaught exception in the page fails the test, so a script or style
the page's CSP refuses shows up here).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from gateway.app import create_app
from gateway.kernel.openapi.serve import documents_key
from gateway.kernel.openapi.ui import IMMUTABLE
from tests.web import test_browser as browser

# the fixtures, shared (assigning a fixture registers it here; importing its name would trip F811)
live = browser.live
playwright = browser.playwright
page = browser.page

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# a rendered UI at 1280x720 is tens of kB as PNG; a blank page is a few hundred bytes
MIN_SCREENSHOT_BYTES = 10_000


class Requests:
    """Every request the page makes; any for another host is refused (as with no internet) and kept."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.external: list[str] = []

    async def install(self, context) -> None:
        context.on("request", lambda request: self.urls.append(request.url))
        await context.route("**/*", self._route)

    async def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOOPBACK:
            await route.continue_()
        else:
            self.external.append(url)
            await route.abort()


@pytest.fixture
async def requests(page) -> Requests:
    recorded = Requests()
    await recorded.install(page.context)
    return recorded


def _titles(live) -> dict[str, str]:
    return {key: published.title for key, published in live.app[documents_key].items()}


def _a_path(live, key: str) -> str:
    """An operation path of the `key` document, as the UIs show it."""
    return next(iter(live.app[documents_key][key].document["paths"]))


async def _screenshot(page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > MIN_SCREENSHOT_BYTES


def _assert_loopback_only(requests: Requests, live) -> None:
    assert requests.external == []
    assert requests.urls and all(
        urlsplit(url).scheme in ("data", "blob") or url.startswith(live.url) for url in requests.urls
    ), requests.urls


async def test_swagger_ui_shows_each_document_and_stays_on_loopback(page, live, requests, tmp_path):
    titles = _titles(live)
    await page.goto(live.url + "/docs")
    # 002's document is the default
    await page.locator('.opblock-summary-path[data-path="/user/me"]').wait_for()
    selector = page.locator(".download-url-wrapper select")
    assert await selector.locator("option").all_inner_texts() == [
        titles["petcare"],
        *(title for key, title in titles.items() if key != "petcare"),
    ]
    assert await page.locator(".info .title").first.inner_text() == f"{titles['petcare']}\n 1.0.0 \nOAS 3.1"

    await selector.select_option(label=titles["events"])
    await page.locator(f'.opblock-summary-path[data-path="{_a_path(live, "events")}"]').first.wait_for()
    assert (await page.locator(".info .title").first.inner_text()).startswith(titles["events"])

    await _screenshot(page, tmp_path, "swagger-ui")
    _assert_loopback_only(requests, live)


async def test_scalar_shows_each_document_and_stays_on_loopback(page, live, requests, tmp_path):
    titles = _titles(live)
    await page.goto(live.url + "/scalar")
    # 002's document is the default: its title, and its operations (Scalar's ids: slug/tag/METHOD/path)
    await page.get_by_role("heading", level=1, name=titles["petcare"]).wait_for()
    await page.get_by_text("Sign in with email and password").first.wait_for()
    await page.locator('[id^="petcare/"][id$="/POST/auth/email/login"]').first.wait_for(state="attached")

    # the document selector, top of the sidebar
    await page.locator("button[id^=headlessui-listbox-button]").first.click()
    options = page.get_by_role("option")
    await options.first.wait_for()
    assert await options.all_inner_texts() == [
        titles["petcare"],
        *(title for key, title in titles.items() if key != "petcare"),
    ]
    await page.get_by_role("option", name=titles["events"]).click()
    await page.get_by_role("heading", level=1, name=titles["events"]).wait_for()
    await page.locator('[id^="events/"][id*="/GET/"]').first.wait_for(state="attached")

    await _screenshot(page, tmp_path, "scalar")
    _assert_loopback_only(requests, live)


async def test_assets_are_cached_for_a_year_and_pages_are_not(live):
    async with aiohttp.ClientSession() as http:
        async with http.get(live.url + "/docs") as resp:
            assert resp.status == 200
            assert resp.headers["Cache-Control"] == "no-cache"
            assert "script-src 'self';" in resp.headers["Content-Security-Policy"]
            text = await resp.text()
        scripts = [part.split('"')[0] for part in text.split('<script src="')[1:]]
        assert len(scripts) == 3
        for src in scripts:
            async with http.get(live.url + src) as resp:
                assert resp.status == 200
                assert resp.headers["Cache-Control"] == IMMUTABLE
                assert resp.content_type == "text/javascript"
                assert resp.headers["Content-Encoding"] == "gzip"


async def test_under_the_petcare_prefix_too(aiohttp_client, settings, ray_session):
    client = await aiohttp_client(create_app(settings.model_copy(update={"petcare_prefix": "/petcare"})))
    for base in ("", "/petcare"):
        resp = await client.get(f"{base}/scalar")
        assert resp.status == 200
        text = await resp.text()
        scripts = [part.split('"')[0] for part in text.split('<script src="')[1:]]
        assert scripts and all(src.startswith(f"{base}/docs/assets/") for src in scripts)
        # 002's document (at its prefix) leads the selector
        assert '"url": "/petcare/openapi.json"' in text.split('"documents": [')[1].split("}")[0]
        assert (await client.get(scripts[-1])).status == 200
