"""The dashboard in a real browser: what a person sees after each action.

One `solara run app.py` serves every test (session fixture); each test opens its own browser
context, so each gets its own Solara session and model. Screenshots go to `screenshot_dir`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
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
# Rendered font size in CSS pixels of every SVG text matching a selector (font size in the
# SVG's units times the SVG's scale on the screen).
FONT_PX_JS = """(selector) => Array.from(document.querySelectorAll(selector), el => {
    const size = parseFloat(getComputedStyle(el).fontSize);
    return size * el.ownerSVGElement.getScreenCTM().a;
})"""


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
    expect(page.locator(".sahel-compare-error")).to_contain_text(
        re.compile(r"cancelled: the \d+ of 80 runs that finished are kept"))
    expect(page.locator(".sahel-compare-run")).to_be_visible()


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
    page.wait_for_function(f"""() => {{
        const img = document.querySelector('{bands}');
        return img !== null && img.complete && img.naturalWidth > 300; }}""", timeout=120_000)
    print(f"compare: 2 x 3 short runs finished and drawn in {time.monotonic() - started:.1f} s")
    assert page.evaluate("() => window.__sahelSawProgress"), "no progress indicator was shown"
    result = page.inner_text(".sahel-compare-result")
    assert "short_russian_restraint vs short_baseline: 3 paired runs" in result
    assert "sahel-sim compare" in result and "--runs 3" in result
    table = page.inner_text(".sahel-compare-table")
    for text in ("outcome", "baseline", "counterfactual", "median diff.", "mean diff.",
                 "90% interval", "deaths, civilians: Mali (people)",
                 "deaths, Russians: all three countries",
                 "displaced since the spin-up (end): Niger"):
        assert text in table
    # the date from which the runs differ, marked on the plots
    divergence = page.inner_text(".sahel-compare-divergence")
    assert re.search(r"first differ on 2023-01-\d\d \(dashed line on every plot\)",
                     divergence), divergence
    # the probability table of rare events
    events = page.inner_text(".sahel-compare-events")
    for text in ("runs with a successful coup: Burkina Faso", "runs with a coup attempt: Mali",
                 "/3 = "):
        assert text in events
    # the same numbers as `sahel-sim compare` (the same function, the same default seeds)
    from sim.experiments import compare
    from sim.experiments.reporting import event_rows, outcome_rows

    expected = compare(SHORT_BASELINE, [SHORT_RESTRAINT], 3)
    cells = """(selector) => Array.from(document.querySelectorAll(selector + ' tbody tr'),
        tr => Array.from(tr.querySelectorAll('td'), td => td.innerText.trim()))"""
    assert page.evaluate(cells, ".sahel-compare-table") == outcome_rows(expected)[
        "short_russian_restraint"]
    assert page.evaluate(cells, ".sahel-compare-events") == event_rows(expected)[
        "short_russian_restraint"]
    # the table downloads as CSV, with the new columns beside the old ones
    with page.expect_download() as info:
        page.click(".sahel-compare-download-comparison-csv")
    import pandas as pd

    frame = pd.read_csv(info.value.path())
    for column in ("outcome", "diff_median", "diff_low", "diff_high", "diff_mean", "mean_low",
                   "mean_high", "first_difference"):
        assert column in frame.columns
    with page.expect_download() as info:
        page.click(".sahel-compare-download-bands-png")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shot(page, screenshot_dir, "compare_result")
    # the Explore view still works after (and during) the background job
    page.click(".v-tab:has-text('Explore')")
    page.click(".sahel-step")
    expect_date(page, "2023-01-02")


def test_compare_with_posterior_draws(page: Page, solara_server: str, dashboard_posterior: Path,
                                      screenshot_dir: Path) -> None:
    """Without a posterior the switch is disabled and says why; with one, the runs draw from it."""
    from playwright.sync_api import expect

    dashboard_posterior.unlink(missing_ok=True)
    open_app(page, solara_server)
    page.click(".v-tab:has-text('Compare')")
    switch = page.locator(".sahel-compare-posterior-switch input")
    expect(switch).to_be_disabled()
    expect(page.locator(".sahel-compare-posterior-source")).to_contain_text(
        "no posterior: ", timeout=10_000)
    # a synthetic posterior of two parameters the counterfactual leaves as the baseline has them
    dashboard_posterior.write_text(
        "draw,parameters.combat.engage_probability,factions.jnim.restraint,weight\n"
        "low,0.15,0.2,1\nhigh,0.35,0.6,3\nnever,0.5,0.9,0\n", encoding="utf-8")
    try:
        open_app(page, solara_server)
        page.click(".v-tab:has-text('Compare')")
        expect(page.locator(".sahel-compare-posterior-source")).to_contain_text(
            "(3 draws, ESS 1.6)")
        choose(page, "sahel-compare-baseline", "short_baseline")
        choose(page, "sahel-compare-counterfactual", "short_russian_restraint")
        page.locator(".sahel-compare-runs input").fill("2")
        page.locator(".sahel-compare-workers input").fill("1")
        expect(switch).to_be_enabled()
        switch.click(force=True)
        expect(switch).to_be_checked()
        page.click(".sahel-compare-run")
        expect(page.locator(".sahel-compare-result")).to_be_visible(timeout=120_000)
        note = page.inner_text(".sahel-compare-posterior")
        assert "Parameters drawn from" in note and "(3 draws, ESS 1.6)" in note, note
        assert "Run i of every scenario uses the same draw" in note
        assert "--posterior=" in page.inner_text(".sahel-compare-result")
        # the same numbers as `sahel-sim compare --posterior` with the same default seeds
        from sim.experiments import compare
        from sim.experiments.reporting import outcome_rows

        expected = compare(SHORT_BASELINE, [SHORT_RESTRAINT], 2, posterior=dashboard_posterior)
        assert set(expected.outcomes["draw"]) <= {"low", "high"}
        cells = """(selector) => Array.from(document.querySelectorAll(selector + ' tbody tr'),
            tr => Array.from(tr.querySelectorAll('td'), td => td.innerText.trim()))"""
        assert page.evaluate(cells, ".sahel-compare-table") == outcome_rows(expected)[
            "short_russian_restraint"]
        shot(page, screenshot_dir, "compare_posterior")
    finally:
        dashboard_posterior.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Legibility, hover, time, exports, filters, reload (issue 12)
# ---------------------------------------------------------------------------------------------

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


def settled_rows(page: Page, script: str, ok: Callable[[list], bool],
                 timeout_s: float = 15.0) -> list:
    """The event table's cells by `script`, once `ok` holds (the table redraws after its title)."""
    deadline = time.monotonic() + timeout_s
    rows = page.evaluate(script)
    while not ok(rows) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        rows = page.evaluate(script)
    return rows


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
    """Runs last in this file: the tests above must not have made the server warn."""
    text = solara_server_log.read_text(encoding="utf-8", errors="replace")
    for bad in ("Warning", "Traceback", "ERROR"):
        assert bad not in text, text[-3000:]
