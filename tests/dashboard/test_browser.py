"""The dashboard in a real browser: what a person sees after each action.

One `solara run app.py` serves every test (session fixture); each test opens its own browser
context, so each gets its own Solara session and model. Screenshots go to `screenshot_dir`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.timeout(240)

LOAD_TIMEOUT_MS = 60_000
TALL = {"width": 1400, "height": 2100}
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SHORT_BASELINE = SCENARIOS / "short_baseline.toml"
SHORT_RESTRAINT = SCENARIOS / "short_russian_restraint.toml"
MAP = ".sahel-map-card img.sahel-map"
CHARTS = {"shares": "img.sahel-chart-shares", "fatalities": "img.sahel-chart-fatalities",
          "credibility": "img.sahel-chart-credibility"}
# Length and a 32-bit rolling hash of the bytes behind an <img>'s (blob:) src.
IMAGE_DIGEST_JS = """async (selector) => {
    const img = document.querySelector(selector);
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let h = 0;
    for (const b of bytes) { h = (Math.imul(h, 31) + b) >>> 0; }
    return `${bytes.length}:${h}`;
}"""
NATURAL_WIDTH_JS = """(selector) => {
    const img = document.querySelector(selector);
    return img !== null && img.complete && img.naturalWidth;
}"""


def test_compare_keeps_the_page_usable_and_can_be_cancelled(page: Page,
                                                             solara_server: str) -> None:
    from playwright.sync_api import expect

    open_app(page, solara_server)
    page.click(".v-tab:has-text('Compare')")
    page.locator(".sahel-compare-runs input").fill("40")
    page.locator(".sahel-compare-workers input").fill("1")
    page.click(".sahel-compare-run")
    progress = page.locator(".sahel-compare-progress")
    expect(progress).to_contain_text(re.compile(r"[1-9]\d* of 80 runs done"), timeout=60_000)
    # meanwhile the explore view answers
    page.click(".v-tab:has-text('Explore')")
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    page.click(".v-tab:has-text('Compare')")
    assert "of 80 runs done" in progress.inner_text()
    page.click(".sahel-compare-cancel")
    expect(page.locator(".sahel-compare-error")).to_contain_text("cancelled")
    expect(page.locator(".sahel-compare-run")).to_be_visible()


def open_app(page: Page, url: str) -> None:
    """Load the page and wait until the map image has really been decoded."""
    page.goto(url, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".sahel-step", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(f"() => ({NATURAL_WIDTH_JS})('{MAP}') > 300",
                           timeout=LOAD_TIMEOUT_MS)


def date_text(page: Page) -> str:
    return page.inner_text(".sahel-date").strip()


def digest(page: Page, selector: str) -> str:
    return str(page.evaluate(IMAGE_DIGEST_JS, selector))


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


def test_page_shows_map_charts_controls_and_log(page: Page, solara_server: str,
                                                screenshot_dir: Path) -> None:
    open_app(page, solara_server)
    width = page.evaluate(NATURAL_WIDTH_JS, MAP)
    assert width > 300, f"map image naturalWidth {width}"
    assert date_text(page) == "2023-01-01"
    assert "day 0 of 731" in page.inner_text(".sahel-day")
    # parameter controls from the schema, with range and unit
    restraint = page.locator(".sahel-param-factions-jnim-restraint")
    assert "JNIM restraint" in restraint.inner_text()
    assert "0 to 1 share" in restraint.inner_text()
    assert page.locator(".sahel-group-toggle").count() >= 6
    assert "2023-01-01 to 2024-12-31" in page.inner_text(".sahel-period")
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    for selector in CHARTS.values():
        page.wait_for_function(f"() => ({NATURAL_WIDTH_JS})('{selector}') > 300")
    header = page.inner_text(".sahel-event-log")
    for column in ("date", "event type", "actor 1", "actor 2", "admin1", "fatalities"):
        assert column in header
    shot(page, screenshot_dir, "explore_day1")


def expect_date(page: Page, value: str, timeout_ms: int = 20_000) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".sahel-date")).to_have_text(value, timeout=timeout_ms)


def test_step_advances_date_map_and_charts(page: Page, solara_server: str) -> None:
    open_app(page, solara_server)
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    before = {name: digest(page, sel) for name, sel in {"map": MAP, **CHARTS}.items()}
    for day in ("2023-01-03", "2023-01-04", "2023-01-05"):
        page.click(".sahel-step")
        expect_date(page, day)
    assert "day 4 of 731" in page.inner_text(".sahel-day")
    wait_digest_change(page, MAP, before["map"])
    for name in ("shares", "fatalities"):
        wait_digest_change(page, CHARTS[name], before[name])
    rows = page.locator(".sahel-event-table tbody tr")
    assert rows.count() > 0
    assert re.match(r"\d{4}-\d{2}-\d{2}", rows.first.inner_text())


def test_play_then_pause(page: Page, solara_server: str, screenshot_dir: Path) -> None:
    open_app(page, solara_server)
    page.click(".sahel-play")
    page.wait_for_selector(".sahel-play:has-text('Pause')")
    started = time.monotonic()
    time.sleep(5)
    frame_note = page.inner_text(".sahel-day")
    page.click(".sahel-play")
    page.wait_for_selector(".sahel-play:has-text('Play')")
    elapsed = time.monotonic() - started
    day = int(re.search(r"day (\d+) of", page.inner_text(".sahel-day")).group(1))  # type: ignore[union-attr]
    print(f"Play: {day} days in {elapsed:.1f} s ({1000 * elapsed / max(day, 1):.0f} ms per "
          f"day in the browser); status while playing: {frame_note!r}")
    assert day >= 5, f"Play advanced only {day} days in {elapsed:.1f} s"
    time.sleep(1)
    assert date_text(page) == date_text(page)  # stopped: the date no longer moves
    frozen = page.inner_text(".sahel-day")
    time.sleep(1)
    assert page.inner_text(".sahel-day") == frozen
    shot(page, screenshot_dir, "explore_after_play")


def test_switching_scenario_changes_timeline(page: Page, solara_server: str,
                                             screenshot_dir: Path) -> None:
    open_app(page, solara_server)
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    baseline_timeline = page.inner_text(".sahel-timeline")
    assert "2024-12-31" in page.inner_text(".sahel-period")
    choose(page, "sahel-scenario-select", "africa_corps_exit")
    from playwright.sync_api import expect

    expect(page.locator(".sahel-period")).to_contain_text("2023-01-01 to 2026-12-31")
    timeline = page.inner_text(".sahel-timeline")
    assert timeline != baseline_timeline
    assert "2025-03-01 withdraw ac_mali_centre" in timeline
    expect_date(page, "2023-01-01")  # a new model, back at the start
    assert "of 1461" in page.inner_text(".sahel-day")
    shot(page, screenshot_dir, "explore_africa_corps_exit")


def test_bad_values_show_a_message_and_the_page_keeps_working(
        page: Page, solara_server: str, screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    open_app(page, solara_server)
    field = page.locator(".sahel-param-factions-jnim-restraint input")
    message = page.locator(".sahel-param:has(.sahel-param-factions-jnim-restraint) "
                           ".sahel-param-error")
    field.fill("2")
    field.press("Enter")
    expect(message).to_contain_text("factions.jnim.restraint: 2.0 is out of range; allowed "
                                     "0.0 to 1.0")
    field.fill("abc")
    field.press("Enter")
    expect(message).to_contain_text("'abc' is not a number")
    seed = page.locator(".sahel-seed input")
    seed.fill("-3")
    seed.press("Enter")
    expect(page.locator(".sahel-setup .sahel-param-error")).to_contain_text(
        "seed: -3 is out of range")
    shot(page, screenshot_dir, "explore_bad_values")
    page.set_viewport_size({"width": 1400, "height": 1000})
    # the model still steps, and a good value is applied (the run restarts with it)
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    field.fill("0.9")
    field.press("Enter")
    expect(message).to_have_count(0)
    expect(page.locator(".sahel-parameters")).to_contain_text("Changed: factions.jnim.restraint")
    expect_date(page, "2023-01-01")


def test_two_tabs_have_their_own_models(browser: Browser, page: Page,
                                        solara_server: str) -> None:
    """Two tabs of one browser (same session cookie), then a second browser profile."""
    open_app(page, solara_server)
    other = page.context.new_page()
    open_app(other, solara_server)
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    assert date_text(other) == "2023-01-01"
    other.click(".sahel-step")
    other.click(".sahel-step")
    expect_date(other, "2023-01-03")
    assert date_text(page) == "2023-01-02"
    other.close()
    page.click(".sahel-reset")
    expect_date(page, "2023-01-01")
    other_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = other_context.new_page()
        open_app(other, solara_server)
        for day in ("2023-01-02", "2023-01-03", "2023-01-04"):
            page.click(".sahel-step")
            expect_date(page, day)
        assert date_text(other) == "2023-01-01"
        other.click(".sahel-step")
        expect_date(other, "2023-01-02")
        assert date_text(page) == "2023-01-04"
    finally:
        other_context.close()


def test_compare_runs_in_background_and_shows_bands(page: Page, solara_server: str,
                                                    screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    open_app(page, solara_server)
    page.click(".v-tab:has-text('Compare')")
    page.wait_for_selector(".sahel-compare-run")
    # bad input: a message beside the field, nothing runs
    runs = page.locator(".sahel-compare-runs input")
    runs.fill("0")
    page.click(".sahel-compare-run")
    expect(page.locator(".sahel-compare .sahel-param-error")).to_contain_text(
        "runs: 0 is out of range; allowed 1 to 1000")
    # scenarios of different periods: the experiment's own one-line message
    choose(page, "sahel-compare-counterfactual", "africa_corps_exit")
    runs.fill("2")
    page.click(".sahel-compare-run")
    expect(page.locator(".sahel-compare-error")).to_contain_text("they must match")
    # a real (short) comparison
    choose(page, "sahel-compare-baseline", "short_baseline")
    choose(page, "sahel-compare-counterfactual", "short_russian_restraint")
    runs.fill("3")
    page.locator(".sahel-compare-workers input").fill("1")
    page.evaluate("""() => {
        window.__sahelSawProgress = false;
        new MutationObserver(() => {
            if (document.querySelector('.sahel-compare-progress')) {
                window.__sahelSawProgress = true;
            }
        }).observe(document.body, {childList: true, subtree: true});
    }""")
    started = time.monotonic()
    page.click(".sahel-compare-run")
    bands = ".sahel-compare-result img.sahel-compare-bands"
    page.wait_for_function(f"() => ({NATURAL_WIDTH_JS})('{bands}') > 300", timeout=120_000)
    print(f"compare: 2 x 3 short runs finished and drawn in {time.monotonic() - started:.1f} s")
    assert page.evaluate("() => window.__sahelSawProgress"), "no progress indicator was shown"
    result = page.inner_text(".sahel-compare-result")
    assert "short_russian_restraint vs short_baseline: 3 paired runs" in result
    assert "sahel-sim compare" in result and "--runs 3" in result
    table = page.inner_text(".sahel-compare-table")
    for text in ("outcome", "baseline", "counterfactual", "difference", "90% interval",
                 "civilian_fatalities_MLI", "russian_fatalities", "displaced_NER"):
        assert text in table
    # the same numbers as `sahel-sim compare` (the same function, the same default seeds)
    from sim.experiments import compare
    from sim.experiments.reporting import comparison_rows

    expected = comparison_rows(compare(SHORT_BASELINE, [SHORT_RESTRAINT], 3))
    shown = page.evaluate("""() => Array.from(
        document.querySelectorAll('.sahel-compare-table tbody tr'),
        tr => Array.from(tr.querySelectorAll('td'), td => td.innerText.trim()))""")
    assert shown == expected["short_russian_restraint"]
    shot(page, screenshot_dir, "compare_result")
    # the Explore view still works after (and during) the background job
    page.click(".v-tab:has-text('Explore')")
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
