"""Reading a run in a real browser: legibility from laptop to phone size, hover and zoom, the
date slider, downloads, event-log filters, reload and shared links; then the server's log.

One `solara run app.py` serves every test (session fixture). This module sorts after the other
test_browser_*.py, so its last test sees the server's log of all of them.
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
    digest,
    expect_date,
    open_app,
    settled_rows,
    wait_digest_change,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.timeout(240)

# Rendered font size in CSS pixels of every SVG text matching a selector (font size in the
# SVG's units times the SVG's scale on the screen).
FONT_PX_JS = """(selector) => Array.from(document.querySelectorAll(selector), el => {
    const size = parseFloat(getComputedStyle(el).fontSize);
    return size * el.ownerSVGElement.getScreenCTM().a;
})"""

MIN_LABEL_PX = 11.0


def test_legible_at_laptop_size(browser: Browser, solara_server: str,
                                screenshot_dir: Path) -> None:
    """At 1280x720 the map fills its column and every label renders at 11 px or more."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        open_app(page, f"{solara_server}?scenario=baseline&day=60")
        expect_date(page, "2023-03-02")
        box = page.locator(MAP).bounding_box()
        assert box is not None and box["width"] >= 650, box
        assert box["height"] >= 0.5 * box["width"], "the map's aspect is wrong"
        for selector in (".sahel-town-label", ".sahel-country-label"):
            sizes = page.evaluate(FONT_PX_JS, f"{MAP} {selector}")
            assert sizes and min(sizes) >= MIN_LABEL_PX, (selector, sizes)
        countries = page.evaluate(
            "(s) => Array.from(document.querySelectorAll(s), e => e.textContent)",
            f"{MAP} .sahel-country-label")
        assert countries == ["MALI", "BURKINA FASO", "NIGER"]
        capitals = page.evaluate(
            "(s) => Array.from(document.querySelectorAll(s), e => e.textContent)",
            f"{MAP} .sahel-capital")
        assert set(capitals) == {"Bamako", "Ouagadougou", "Niamey"}
        # labels are drawn over the event circles, with a halo
        halo = page.evaluate("(s) => getComputedStyle(document.querySelector(s)).strokeWidth",
                             f"{MAP} .sahel-capital")
        assert float(halo.removesuffix("px")) >= 2
        for selector in CHARTS.values():
            ticks = page.evaluate(FONT_PX_JS, f"{selector} text")
            assert ticks and min(ticks) >= MIN_LABEL_PX, (selector, min(ticks))
        legend = page.evaluate("(s) => parseFloat(getComputedStyle(document.querySelector(s))"
                               ".fontSize)", ".sahel-map-legend")
        assert legend >= 12
        # the map and the charts side by side, not overlapping; no horizontal scrolling
        charts = page.locator(".sahel-charts-card").bounding_box()
        assert charts is not None and charts["x"] >= box["x"] + box["width"] - 1
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
        page.screenshot(path=str(screenshot_dir / "legible_1280x720.png"))
        # 820 px wide: the map takes the whole width; a phone: Play stays on screen
        page.set_viewport_size({"width": 820, "height": 1000})
        time.sleep(0.5)
        narrow = page.locator(MAP).bounding_box()
        assert narrow is not None and narrow["width"] >= 700
        sizes = page.evaluate(FONT_PX_JS, f"{MAP} .sahel-town-label")
        assert min(sizes) >= MIN_LABEL_PX
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 820
        page.screenshot(path=str(screenshot_dir / "legible_820.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        time.sleep(0.5)
        play = page.locator(".sahel-play").bounding_box()
        assert play is not None and play["x"] + play["width"] <= 390
        page.screenshot(path=str(screenshot_dir / "phone_390.png"))
    finally:
        context.close()


def test_hover_shows_cell_details_and_zoom(page: Page, solara_server: str,
                                           screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    open_app(page, f"{solara_server}?scenario=baseline&day=30")
    expect_date(page, "2023-01-31")
    label = page.locator(f"{MAP} .sahel-capital", has_text="Ouagadougou")
    box = label.bounding_box()
    assert box is not None
    # just left of the label's text: the capital's cell
    page.mouse.move(box["x"] - 8, box["y"] + box["height"] / 2)
    tip = page.locator(".sahel-map-tip")
    expect(tip).to_contain_text("country: Burkina Faso", timeout=10_000)
    for text in ("region:", "controlled by:", "Kalyvas zone:", "residents:", "displaced",
                 "events, last 30 days:"):
        assert text in tip.inner_text()
    page.screenshot(path=str(screenshot_dir / "hover.png"))
    page.mouse.move(5, 5)
    expect(tip).to_have_count(0)
    # zoom to Burkina Faso and back
    before = page.locator(MAP).get_attribute("viewBox")
    page.click(".sahel-zoom button:has-text('BFA')")
    page.wait_for_function(f"() => document.querySelector('{MAP}').getAttribute('viewBox')"
                           f" !== '{before}'")
    expect(page).to_have_url(re.compile(r"[?&]zoom=BFA\b"))  # the URL follows the state
    page.click(".sahel-zoom button:has-text('Region')")
    page.wait_for_function(f"() => document.querySelector('{MAP}').getAttribute('viewBox')"
                           f" === '{before}'")


def test_date_slider_scrubs_back_without_rerunning(page: Page, solara_server: str) -> None:
    from playwright.sync_api import expect

    open_app(page, f"{solara_server}?scenario=baseline&day=40")
    expect_date(page, "2023-02-10")
    map_now = digest(page, MAP)
    log_title = page.inner_text(".sahel-event-log .v-card__title")
    thumb = page.locator(".sahel-date-slider .v-slider__thumb-container")
    thumb.focus()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    expect_date(page, "2023-01-31")
    expect(page.locator(".sahel-day")).to_contain_text("day 30 of 731 (simulated to day 40)")
    wait_digest_change(page, MAP, map_now)
    assert page.inner_text(".sahel-event-log .v-card__title") != log_title
    expect(page).to_have_url(re.compile(r"[?&]day=30\b"))  # the URL follows the state
    page.keyboard.press("Home")
    expect_date(page, "2023-01-01")
    page.keyboard.press("End")
    expect_date(page, "2023-02-10")
    expect(page.locator(".sahel-day")).to_have_text("day 40 of 731")
    # Step goes on from the last simulated day, not from the day shown
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    expect_date(page, "2023-02-09")
    page.click(".sahel-step")
    expect_date(page, "2023-02-11")


def test_downloads_arrive_and_parse(page: Page, solara_server: str, tmp_path: Path) -> None:
    import pandas as pd

    open_app(page, f"{solara_server}?scenario=baseline&day=45")
    expect_date(page, "2023-02-15")
    files: dict[str, Path] = {}
    for name in ("timeseries-csv", "events-csv", "cell_months-csv", "map-png",
                 "shares-png", "fatalities-png", "credibility-png"):
        with page.expect_download(timeout=60_000) as info:
            page.click(f".sahel-download-{name}")
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        files[name] = path
    ts = pd.read_csv(files["timeseries-csv"])
    assert len(ts) == 45 * 3 and {"date", "country", "killed_civilians"} <= set(ts.columns)
    events = pd.read_csv(files["events-csv"])
    assert {"event_date", "event_type", "actor1", "fatalities"} <= set(events.columns)
    assert events["event_date"].max() < "2023-02-15"
    months = pd.read_csv(files["cell_months-csv"])
    assert {"month", "prio_gid", "fatalities"} <= set(months.columns)
    for name in ("map-png", "shares-png", "fatalities-png", "credibility-png"):
        assert files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert files["map-png"].name.startswith("baseline-seed")


def test_event_log_filters(page: Page, solara_server: str) -> None:
    from playwright.sync_api import expect

    open_app(page, f"{solara_server}?scenario=baseline&day=90")
    expect_date(page, "2023-04-01")
    title = page.locator(".sahel-event-log .v-card__title")
    total = int(re.search(r"([\d,]+) of ([\d,]+) events", title.inner_text())  # type: ignore[union-attr]
                .group(2).replace(",", ""))
    assert total > 200, "all events of the run are listed, not only the latest 200"
    choose(page, "sahel-filter-country", "BFA")
    expect(title).not_to_contain_text(f"{total:,} of {total:,}")
    countries = settled_rows(page, """() => Array.from(
        document.querySelectorAll('.sahel-event-table tbody tr'),
        tr => tr.querySelectorAll('td')[5].innerText.trim())""",
        lambda r: bool(r) and set(r) == {"BFA"})
    assert countries and set(countries) == {"BFA"}
    by_country = title.inner_text()
    choose(page, "sahel-filter-type", "Violence against civilians")
    expect(title).not_to_have_text(by_country)
    types = settled_rows(page, """() => Array.from(
        document.querySelectorAll('.sahel-event-table tbody tr'),
        tr => tr.querySelectorAll('td')[1].innerText.trim())""",
        lambda r: bool(r) and set(r) == {"Violence against civilians"})
    assert types and set(types) == {"Violence against civilians"}
    by_type = title.inner_text()
    choose(page, "sahel-filter-actor", "JNIM (Jama'at Nusrat al-Islam wal-Muslimin)")
    expect(title).not_to_have_text(by_type)
    rows = settled_rows(page, """() => Array.from(
        document.querySelectorAll('.sahel-event-table tbody tr'),
        tr => [tr.querySelectorAll('td')[3].innerText, tr.querySelectorAll('td')[4].innerText])""",
        lambda r: bool(r) and all("JNIM" in a or "JNIM" in b for a, b in r))
    assert rows and all("JNIM" in a or "JNIM" in b for a, b in rows)
    filtered = title.inner_text()
    # the date range
    thumb = page.locator(".sahel-filter-dates .v-slider__thumb-container").first
    thumb.focus()
    for _ in range(60):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".sahel-filter-dates")).to_contain_text("Dates: 2023-03-02 to")
    expect(title).not_to_have_text(filtered)
    dates = settled_rows(page, """() => Array.from(
        document.querySelectorAll('.sahel-event-table tbody tr'),
        tr => tr.querySelectorAll('td')[0].innerText.trim())""",
        lambda r: all(d >= "2023-03-02" for d in r))
    assert all(d >= "2023-03-02" for d in dates), dates
    page.click(".sahel-filter-clear")
    expect(title).to_contain_text(f"{total:,} of {total:,}")


def test_reload_keeps_the_run(page: Page, solara_server: str) -> None:
    from playwright.sync_api import expect

    open_app(page, solara_server)
    seed = page.locator(".sahel-seed input")
    seed.fill("7")
    seed.press("Enter")
    page.click(".sahel-parameters-toggle")
    field = page.locator(".sahel-param-factions-jnim-restraint input")
    field.fill("0.4")
    field.press("Enter")
    expect(page.locator(".sahel-parameters")).to_contain_text("Changed: factions.jnim.restraint")
    for day in ("2023-01-02", "2023-01-03", "2023-01-04"):
        page.click(".sahel-step")
        expect_date(page, day)
    page.wait_for_function("() => window.location.search.includes('day=3')")
    url = page.url
    assert "seed=7" in url and "p.factions.jnim.restraint=0.4" in url
    title = page.locator(".sahel-event-log .v-card__title")
    expect(title).to_contain_text("up to the day shown")
    time.sleep(1.0)  # let the last Step's render settle
    log = title.inner_text()
    page.reload()
    open_app(page, url)
    expect_date(page, "2023-01-04")
    assert page.locator(".sahel-seed input").input_value() == "7"
    assert page.locator(".sahel-param-factions-jnim-restraint input").input_value() == "0.4"
    expect(title).to_have_text(log)  # the same run
    # a shared link opens the same view in another session
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[union-attr]
    try:
        shared = other.new_page()
        open_app(shared, url)
        expect_date(shared, "2023-01-04")
        expect(shared.locator(".sahel-event-log .v-card__title")).to_have_text(log)
    finally:
        other.close()


def test_server_log_has_no_warnings(solara_server: str, solara_server_log: Path) -> None:
    """Runs last of the browser tests (this module sorts last): none of them may have made
    the server warn."""
    text = solara_server_log.read_text(encoding="utf-8", errors="replace")
    for bad in ("Warning", "Traceback", "ERROR"):
        assert bad not in text, text[-3000:]
