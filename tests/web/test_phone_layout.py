"""/developer and /gpt-connect at desktop and phone sizes (issue 16, point 8): nothing wider than the
screen, every Revoke inside its card, the one-time token dialog wholly visible and closed by
Escape, and the consent step's Cancel, which goes back to the GPT with a denial.

Each test takes full-page screenshots at each size; their width is the screen's (layout.screenshot),
and the layout is asserted from the page itself (layout.layout_problems). The browser and server
are test_browser.py's.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.builders import DEFAULT_PASSWORD, make_token, make_user
from tests.pethealth.gpt_helpers import CONNECTOR_URL, NINE, new_session
from tests.web import layout
from tests.web import test_browser as browser

live = browser.live
playwright = browser.playwright

pytestmark = pytest.mark.parametrize("screen", layout.SCREENS, ids=lambda s: s.name)

# long enough to wrap on a phone, as real names do ("deploy bot for the staging cluster")
LONG_NAME = "deploy-bot-for-the-staging-cluster-eu-west"


async def _user_with_tokens(live):
    user = await make_user(live.app, name="Phuong Linh Nguyen-Tran")
    await make_token(live.app, user["id"], name=LONG_NAME, abilities=tuple(NINE))
    await make_token(live.app, user["id"], name="read only", abilities=("read",))
    await make_token(live.app, user["id"], name="Pixel 8 Pro (Chrome)", kind="login")
    return user


async def test_developer_page_fits_the_screen(playwright, live, tmp_path, screen):
    user = await _user_with_tokens(live)
    async with layout.page_at(playwright, screen, tmp_path / "profile") as page:
        await layout.sign_in(page, live, user["email"])
        assert await layout.layout_problems(page, screen) == []
        revokes = page.locator("button.danger")
        assert await revokes.count() == 4  # two tokens, one sign-in, "Sign out everywhere"
        for i in range(await revokes.count()):
            await revokes.nth(i).scroll_into_view_if_needed()
            box = await revokes.nth(i).bounding_box()
            assert box is not None
            assert 0 <= box["x"] and box["x"] + box["width"] <= screen.width
            assert 0 <= box["y"] and box["y"] + box["height"] <= screen.height
        await layout.screenshot(page, tmp_path, "developer", screen)


async def test_the_token_dialog_fits_and_escape_closes_it(playwright, live, tmp_path, screen):
    user = await _user_with_tokens(live)  # a full table behind the dialog, as in real use
    async with layout.page_at(playwright, screen, tmp_path / "profile") as page:
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
        await layout.sign_in(page, live, user["email"])
        dialog = page.locator("#new-token")

        await page.fill("#token-name", LONG_NAME + "-2")
        await page.click("#create-form button[type=submit]")
        await dialog.wait_for(state="visible")
        assert await layout.dialog_problems(page, "#new-token", screen) == []
        assert await layout.layout_problems(page, screen) == []
        await layout.screenshot(page, tmp_path, "token-dialog", screen)

        # not saved yet: Escape asks first, and "no" keeps the token on screen
        questions: list[str] = []

        async def answer(question, accept: bool) -> None:
            questions.append(question.message)
            await (question.accept() if accept else question.dismiss())

        page.once("dialog", lambda q: answer(q, False))
        await page.keyboard.press("Escape")
        assert questions == ["Close without saving the token? It is shown only once and cannot be retrieved later."]
        assert await dialog.is_visible()

        # copied: Escape closes at once, and the page forgets the token (it reloads)
        token = await page.inner_text("#new-token-value")
        await page.click("#copy-token")
        await browser.async_api.expect(page.locator("#copy-token")).to_have_text("Copied")
        async with page.expect_navigation(url=live.url + "/developer"):
            await page.keyboard.press("Escape")
        assert not await dialog.is_visible()
        assert token not in await page.content()
        assert len(questions) == 1

        # never copied: Escape and "yes" close it too
        await page.fill("#token-name", "second")
        await page.click("#create-form button[type=submit]")
        await dialog.wait_for(state="visible")
        page.once("dialog", lambda q: answer(q, True))
        async with page.expect_navigation(url=live.url + "/developer"):
            await page.keyboard.press("Escape")
        assert not await dialog.is_visible()
        assert len(questions) == 2
        assert await page.locator('#tokens td.name:text-is("second")').count() == 1


async def test_gpt_consent_fits_and_cancel_goes_back_with_a_denial(playwright, live, tmp_path, screen):
    user = await make_user(live.app, name="Khanh")
    session = new_session()
    connect = live.url + "/gpt-connect?" + urlencode(session)
    async with layout.page_at(playwright, screen, tmp_path / "profile") as page:
        # the connector's callback is not ours: the browser gets a stand-in page there
        await page.route(
            CONNECTOR_URL + "/**", lambda route: route.fulfill(status=200, content_type="text/html", body="back")
        )
        await page.goto(connect)  # signed out: the sign-in and register step
        assert await layout.layout_problems(page, screen) == []
        await layout.screenshot(page, tmp_path, "gpt-sign-in", screen)
        await page.fill("#login-email", user["email"])
        await page.fill("#login-password", DEFAULT_PASSWORD)
        await page.click("#login-form button[type=submit]")
        await page.locator("#confirm").wait_for()

        assert await layout.layout_problems(page, screen) == []
        cancel = page.locator("#cancel")
        assert await cancel.inner_text() == "Cancel"
        box = await cancel.bounding_box()
        assert box is not None and box["x"] + box["width"] <= screen.width
        await layout.screenshot(page, tmp_path, "gpt-consent", screen)

        await cancel.click()
        await page.wait_for_url(CONNECTOR_URL + "/oauth/callback?*")
        # OAuth's denial (RFC 6749 §4.1.2.1) with the connector's session, and no code
        assert parse_qs(urlsplit(page.url).query) == {
            "session_id": [session["session_id"]],
            "error": ["access_denied"],
            "error_description": ["The user declined to connect their account."],
        }

        # nothing was consumed: had the person changed their mind, the link still works
        await page.goto(connect)
        await page.click("#confirm")
        await page.wait_for_url(CONNECTOR_URL + "/oauth/callback?*")
        assert "code" in parse_qs(urlsplit(page.url).query)


async def test_sign_in_page_fits_the_screen(playwright, live, tmp_path, screen):
    async with layout.page_at(playwright, screen, tmp_path / "profile") as page:
        await page.goto(live.url + "/login")
        assert await layout.layout_problems(page, screen) == []
        await layout.screenshot(page, tmp_path, "login", screen)
