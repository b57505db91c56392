"""Helpers shared by the dashboard's browser tests (test_browser_*.py): load the page, read
the date, wait for the map or a chart to change, pick from a menu, take a screenshot.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

LOAD_TIMEOUT_MS = 60_000
TALL = {"width": 1400, "height": 2100}
MAP = ".sahel-map-card .sahel-map svg"
CHARTS = {"shares": ".sahel-chart-shares svg", "fatalities": ".sahel-chart-fatalities svg",
          "credibility": ".sahel-chart-credibility svg"}
# Length and a 32-bit rolling hash of an element's markup (the SVG of the map or a chart).
DIGEST_JS = """(selector) => {
    const el = document.querySelector(selector);
    const text = el ? el.outerHTML : '';
    let h = 0;
    for (let i = 0; i < text.length; i++) { h = (Math.imul(h, 31) + text.charCodeAt(i)) >>> 0; }
    return `${text.length}:${h}`;
}"""


def open_app(page: Page, url: str) -> None:
    """Load the page and wait until the map has been drawn."""
    page.goto(url, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".sahel-step", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(MAP, timeout=LOAD_TIMEOUT_MS)


def date_text(page: Page) -> str:
    return page.inner_text(".sahel-date").strip()


def digest(page: Page, selector: str) -> str:
    return str(page.evaluate(DIGEST_JS, selector))


def wait_digest_change(page: Page, selector: str, before: str, timeout_s: float = 20) -> str:
    """Wait until the image behind `selector` has other bytes than `before`."""
    deadline = time.monotonic() + timeout_s
    now = digest(page, selector)
    while now == before and time.monotonic() < deadline:
        time.sleep(0.2)
        now = digest(page, selector)
    assert now != before, f"{selector} did not change within {timeout_s} s"
    return now


def choose(page: Page, select_class: str, option: str) -> None:
    """Pick `option` (exact text) in the v-select with CSS class `select_class`."""
    page.click(f".{select_class} .v-select__slot")
    menu = page.locator(".menuable__content__active .v-list-item__title",
                        has_text=re.compile(f"^{re.escape(option)}$"))
    menu.first.click()
    page.wait_for_selector(".menuable__content__active", state="detached")


def shot(page: Page, folder: Path, name: str) -> Path:
    page.set_viewport_size(TALL)
    time.sleep(0.5)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def expect_date(page: Page, value: str, timeout_ms: int = 20_000) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".sahel-date")).to_have_text(value, timeout=timeout_ms)


def settled_rows(page: Page, script: str, ok: Callable[[list], bool],
                 timeout_s: float = 15.0) -> list:
    """The event table's cells by `script`, once `ok` holds (the table redraws after its title)."""
    deadline = time.monotonic() + timeout_s
    rows = page.evaluate(script)
    while not ok(rows) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        rows = page.evaluate(script)
    return rows
