"""`/` in a browser and `/favicon.ico` (issue 16, point 3): outside production a browser gets the
landing page, whose every link answers, at desktop and phone sizes; API clients get 002's status
JSON at the same URL (tests/petcare/test_status.py); every page has a real icon.

The browser and server are test_browser.py's (the app runs with APP_ENV=testing, which is not
production, so the page is served).
"""

from __future__ import annotations

import io
from urllib.parse import urljoin

import aiohttp
import pytest
from PIL import Image

from gateway.kernel.openapi.serve import documents_key
from gateway.web.favicon import CACHE_CONTROL
from tests.web import layout
from tests.web import test_browser as browser

live = browser.live
playwright = browser.playwright
page = browser.page

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("screen", layout.SCREENS, ids=lambda s: s.name)
async def test_landing_page_links_everything_and_fits(playwright, live, tmp_path, screen):
    async with layout.page_at(playwright, screen, tmp_path / "profile") as tab:
        response = await tab.goto(live.url + "/")
        assert response is not None and response.status == 200
        assert await tab.title() == "Roost"
        assert "nonce-" in response.headers["content-security-policy"]

        documents = live.app[documents_key]
        listed = await tab.locator("#documents li").evaluate_all(
            "items => items.map(li => [li.dataset.key, li.querySelector('a').getAttribute('href'),"
            " li.querySelector('a').textContent])"
        )
        assert listed == [[d.key, d.path, d.title] for d in documents.values()]
        hrefs = await tab.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        for path in ("/docs", "/scalar", "/healthz", "/readyz", "/login", "/developer"):
            assert path in hrefs

        assert await layout.layout_problems(tab, screen) == []
        await layout.screenshot(tab, tmp_path, "landing", screen)
        # the icon in base.html's <link rel="icon"> (headless chromium does not fetch icons itself)
        assert await tab.locator('link[rel="icon"]').get_attribute("href") == "/favicon.ico"
        assert await tab.evaluate("fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])") == [
            200,
            "image/x-icon",
        ]

    # every link on the page answers (the pages behind /developer redirect to sign in first)
    async with aiohttp.ClientSession() as http:
        for href in hrefs:
            async with http.get(urljoin(live.url, href)) as resp:
                assert resp.status == 200, href


async def test_clicking_through_to_the_docs(page, live):
    await page.goto(live.url + "/")
    async with page.expect_navigation(url=live.url + "/docs"):
        await page.click('a[href="/docs"]')
    await page.locator('.opblock-summary-path[data-path="/user/me"]').wait_for()


async def test_browsers_get_the_page_and_api_clients_the_json(live):
    async with aiohttp.ClientSession() as http:
        async with http.get(live.url + "/", headers={"Accept": BROWSER_ACCEPT}) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/html"
            assert resp.headers["Vary"] == "Accept"
            assert resp.headers["Cache-Control"] == "no-store"
            assert "<h1>Roost</h1>" in await resp.text()
        async with http.get(live.url + "/", headers={"Accept": "application/json"}) as resp:
            assert resp.status == 200
            assert (await resp.json())["message"] == "Welcome to PetCare API!"


async def test_favicon_is_a_real_icon_cached_for_long(live):
    async with aiohttp.ClientSession() as http:
        async with http.get(live.url + "/favicon.ico") as resp:
            assert resp.status == 200
            assert resp.content_type == "image/x-icon"
            assert resp.headers["Cache-Control"] == CACHE_CONTROL == "public, max-age=604800"
            etag = resp.headers["ETag"]
            body = await resp.read()
        with Image.open(io.BytesIO(body)) as icon:
            assert icon.format == "ICO"
            assert {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])
        async with http.get(live.url + "/favicon.ico", headers={"If-None-Match": etag}) as resp:
            assert resp.status == 304
            assert await resp.read() == b""
