"""Pages at a given screen size, and what a page's layout must hold there: nothing wider than the
screen, every button inside it, a dialog wholly visible. Shared by the browser tests that check
layout (test_landing.py, test_phone_layout.py); the browser and server are test_browser.py's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from tests.builders import DEFAULT_PASSWORD
from tests.web import test_browser as browser


@dataclass(frozen=True)
class Screen:
    name: str
    width: int
    height: int
    # a phone: mobile viewport rules (a page wider than the screen is zoomed out, as on a phone), touch
    mobile: bool = False
    scale: float = 1

    def context_options(self) -> dict[str, Any]:
        return {
            "viewport": {"width": self.width, "height": self.height},
            "is_mobile": self.mobile,
            "has_touch": self.mobile,
            "device_scale_factor": self.scale,
        }


DESKTOP = Screen("desktop", 1280, 800)
PHONE = Screen("phone", 390, 844, mobile=True, scale=3)  # the issue's phone (an iPhone 12-14's CSS size)
SCREENS = [DESKTOP, PHONE]
# a rendered page is tens of kB as PNG; a blank one a few hundred bytes
MIN_SCREENSHOT_BYTES = 8_000


@dataclass
class Problems:
    found: list[str] = field(default_factory=list)

    def watch(self, tab) -> None:
        # As test_browser.page: an HTTP error answer is logged as "Failed to load resource", and
        # the tests check statuses themselves; anything else is the page's fault.
        def on_console(msg) -> None:
            if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
                self.found.append(f"console: {msg.text}")

        tab.on("console", on_console)
        tab.on("pageerror", lambda exc: self.found.append(f"page error: {exc}"))


@asynccontextmanager
async def page_at(playwright, screen: Screen, profile: Path) -> AsyncIterator[Any]:
    """A page of `screen`'s size in a fresh profile; fails on a console error or uncaught exception."""
    context = await playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=browser.CHROMIUM,
        headless=True,
        args=browser.CHROMIUM_ARGS,
        **screen.context_options(),
    )
    context.set_default_timeout(browser.STEP_TIMEOUT_MS)
    tab = context.pages[0] if context.pages else await context.new_page()
    problems = Problems()
    problems.watch(tab)
    try:
        yield tab
    finally:
        await context.close()
    assert problems.found == []


# Everything measured in CSS pixels of the layout viewport. A button is "inside" when its box lies
# between the page's left and right edges (it may be further down: pages scroll vertically); one
# in a closed dialog or a hidden row has no box and is skipped.
_LAYOUT_JS = """
(width) => {
  const found = [];
  // a phone zooms out of a page wider than its screen, and the window grows with it
  if (window.innerWidth !== width) found.push(`the window is ${window.innerWidth}px wide on a ${width}px screen`);
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > width) found.push(`page is ${scrollWidth}px wide on a ${width}px screen`);
  for (const el of document.querySelectorAll("button, a.button, input, table")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const text = (el.textContent || el.name || "").trim().slice(0, 30);
    const label = `${el.tagName.toLowerCase()}#${el.id || ""} "${text}"`;
    if (r.left < 0 || r.right > width + 0.5) found.push(`${label} spans ${r.left}..${r.right} of ${width}`);
    const card = el.closest(".card, dialog");
    if (card) {
      const c = card.getBoundingClientRect();
      if (r.left < c.left - 0.5 || r.right > c.right + 0.5) {
        found.push(`${label} overflows its ${card.tagName.toLowerCase()}`);
      }
    }
  }
  return found;
}
"""

_DIALOG_JS = """
([selector, width, height]) => {
  const dialog = document.querySelector(selector);
  const found = [];
  const inside = (el, label) => {
    const r = el.getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > width + 0.5 || r.bottom > height + 0.5) {
      found.push(`${label} at ${r.left},${r.top}..${r.right},${r.bottom} of ${width}x${height}`);
    }
  };
  inside(dialog, "the dialog");
  for (const el of dialog.querySelectorAll("button, a.button, .token")) inside(el, `${el.tagName} ${el.id}`);
  if (dialog.scrollHeight > dialog.clientHeight + 1) found.push("the dialog scrolls: some of it is hidden");
  return found;
}
"""


async def layout_problems(page, screen: Screen) -> list[str]:
    return await page.evaluate(_LAYOUT_JS, screen.width)


async def dialog_problems(page, selector: str, screen: Screen) -> list[str]:
    """What of the open dialog at `selector` (its buttons, the token) is outside the screen."""
    return await page.evaluate(_DIALOG_JS, [selector, screen.width, screen.height])


async def screenshot(page, tmp_path: Path, name: str, screen: Screen) -> Path:
    """The whole page as PNG. It is exactly the screen's width: a page wider than the screen makes
    a wider full-page shot, so the picture itself holds the no-overflow rule too."""
    shot = tmp_path / f"{name}-{screen.name}.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > MIN_SCREENSHOT_BYTES
    with Image.open(shot) as image:
        assert image.width == round(screen.width * screen.scale), (image.size, screen)
    return shot


async def sign_in(page, live, email: str) -> None:
    await page.goto(live.url + "/login")
    await page.fill("#email", email)
    await page.fill("#password", DEFAULT_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(live.url + "/developer")
