"""The dashboard's compare view in a real browser: background runs, cancelling, the result
(bands, tables, downloads) and parameters drawn from a posterior.

One `solara run app.py` serves every test (session fixture); each test opens its own browser
context, so each gets its own Solara session. Screenshots go to `screenshot_dir`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import choose, expect_date, open_app, shot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.timeout(240)

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SHORT_BASELINE = SCENARIOS / "short_baseline.toml"
SHORT_RESTRAINT = SCENARIOS / "short_russian_restraint.toml"


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
