"""The dashboard's explore view in a real browser: what a person sees after each action.

One `solara run app.py` serves every test (session fixture); each test opens its own browser
context, so each gets its own Solara session and model. Screenshots go to `screenshot_dir`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import (
    CHARTS,
    MAP,
    choose,
    date_text,
    digest,
    expect_date,
    open_app,
    shot,
    wait_digest_change,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.timeout(240)


def test_page_shows_map_charts_controls_and_log(page: Page, solara_server: str,
                                                screenshot_dir: Path) -> None:
    open_app(page, solara_server)
    width = page.locator(MAP).bounding_box()["width"]  # type: ignore[index]
    assert width > 600, f"map {width} px wide at 1400 px"
    assert date_text(page) == "2023-01-01"
    assert "day 0 of 731" in page.inner_text(".sahel-day")
    # parameter controls from the schema, with range and unit
    page.click(".sahel-parameters-toggle")
    restraint = page.locator(".sahel-param-factions-jnim-restraint")
    assert "JNIM restraint" in restraint.inner_text()
    assert "0 to 1 share" in restraint.inner_text()
    assert page.locator(".sahel-group-toggle").count() >= 6
    assert "2023-01-01 to 2024-12-31" in page.inner_text(".sahel-period")
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")
    for selector in CHARTS.values():  # (a chart's SVG may be replaced while we look)
        page.wait_for_function(f"""() => {{
            const el = document.querySelector('{selector}');
            return el !== null && el.getBoundingClientRect().width > 300; }}""")
    header = page.inner_text(".sahel-event-log")
    for column in ("date", "event type", "actor 1", "actor 2", "admin1", "fatalities"):
        assert column in header
    shot(page, screenshot_dir, "explore_day1")


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
    # the timeline may render after the period: wait for the new scenario's withdrawal
    expect(page.locator(".sahel-timeline")).to_contain_text(
        "2025-03-01 withdraw ac_mali_centre")
    assert page.inner_text(".sahel-timeline") != baseline_timeline
    expect_date(page, "2023-01-01")  # a new model, back at the start
    assert "of 1461" in page.inner_text(".sahel-day")
    shot(page, screenshot_dir, "explore_africa_corps_exit")


def test_bad_values_show_a_message_and_the_page_keeps_working(
        page: Page, solara_server: str, screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    open_app(page, solara_server)
    page.click(".sahel-parameters-toggle")
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
