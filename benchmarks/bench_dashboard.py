"""Speed of the dashboard: Play (simulated days per second) and Step (to a redrawn page).

Two measurements of the explore view at the scenario's default resolution:

- in process: a Play frame as the page computes it (`days per frame` model steps, the map as
  SVG, and on its slot one chart or the event table), and a paused Step (the map, the three
  charts and the event table), through `ExploreSession` as the page calls it;
- `--browser`: the real page in headless Chromium (Debian's, with Playwright, as the browser
  tests) against `solara run app.py`: Play for `--seconds` at each days-per-frame setting and
  the simulated days per second reached; Step from the click until the page shows the new
  date and a redrawn map (median of `--steps` clicks).

Goals (issue 12): Play >= 15 simulated days per second at the default days per frame, Step
<= 250 ms. Needs `SOLARA_ASSETS_PROXY_CACHE_DIR` for `--browser` (see .ci/install_browser.sh).
These machines are shared: the load average is printed with the figures.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--days 120] [--browser]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sim.dashboard.explore import DAYS_PER_FRAME, DEFAULT_DAYS_PER_FRAME
from sim.dashboard.figures import credibility_chart, fatalities_chart, map_colours, shares_chart
from sim.dashboard.state import CHART_SLOTS, ExploreSession, event_items, refresh_key
from sim.dashboard.svg import MapLayer, MapSVG

ROOT = Path(__file__).resolve().parent.parent
CHARTS = {
    "shares": lambda s, d: s.draw(lambda m: shares_chart(m, s.timeseries_upto(d))),
    "fatalities": lambda s, d: s.draw(lambda m: fatalities_chart(m, s.timeseries_upto(d))),
    "credibility": lambda s, d: s.draw(lambda m: credibility_chart(m, s.timeseries_upto(d))),
    "events": lambda s, d: event_items(s.events_upto(d)),
}


def frame(session: ExploreSession, builder: MapSVG, colours: list[str], days: int,
          playing: bool, keys: dict[str, object]) -> float:
    """One frame as the page computes it; its milliseconds."""
    start = time.perf_counter()
    session.step(days=days)
    day = session.day()
    builder.render(MapLayer(session.control_codes(day), colours, session.recent_events(day),
                            session.units_on(day)))
    for name in CHART_SLOTS:
        key = refresh_key(day, playing, name)
        if keys.get(name) != key:
            CHARTS[name](session, day)
            keys[name] = key
    return 1000.0 * (time.perf_counter() - start)


def bench_frames(scenario: Path, days: int) -> None:
    """Play frames over `days` days, then paused Steps; print the figures."""
    session = ExploreSession(scenario)
    session.load(scenario)
    assert session.model is not None
    builder = MapSVG(session.model.world.geo)
    colours, _ = map_colours(session.model)
    keys: dict[str, object] = {}
    per = DEFAULT_DAYS_PER_FRAME
    play = [frame(session, builder, colours, per, True, keys) for _ in range(days // per)]
    paused = [frame(session, builder, colours, 1, False, keys) for _ in range(10)]
    print(f"scenario {scenario.name}, resolution {session.scenario.resolution} degrees "  # type: ignore[union-attr]
          f"({session.model.world.sahel_idx.size} cells)")
    print(f"in process, Play frame of {per} days (steps + map SVG + a chart in turn): median "
          f"{statistics.median(play):.0f} ms, max {max(play):.0f} ms -> at most "
          f"{1000 * per / statistics.median(play):.0f} days/s before the browser")
    print(f"in process, paused Step (1 day + map + 3 charts + event table): median "
          f"{statistics.median(paused):.0f} ms")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_browser(seconds: float, steps: int) -> None:
    """Play and Step in headless Chromium against a real `solara run app.py`."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    solara = Path(sys.executable).with_name("solara")
    env = {**os.environ, "SOLARA_ASSETS_PROXY": "true",
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    server = subprocess.Popen([str(solara), "run", "app.py", "--host", "127.0.0.1", "--port",
                               str(port), "--no-open", "--production"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            deadline = time.monotonic() + 90
            while True:
                try:
                    page.goto(url, timeout=60_000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            page.wait_for_selector(".sahel-map svg", timeout=60_000)

            def day() -> int:
                text = page.inner_text(".sahel-day")
                return int(re.search(r"day (\d+) of", text).group(1))  # type: ignore[union-attr]

            for per in DAYS_PER_FRAME:
                page.click(".sahel-reset")
                page.wait_for_function("() => document.querySelector('.sahel-date')"
                                       ".innerText.includes('-01-01')")
                page.click(f".sahel-days-per-frame button:has-text('{per}')")
                page.click(".sahel-play")
                page.wait_for_selector(".sahel-play:has-text('Pause')")
                time.sleep(1.0)  # warm up
                first, t0 = day(), time.perf_counter()
                time.sleep(seconds)
                last, t1 = day(), time.perf_counter()
                page.click(".sahel-play")
                page.wait_for_selector(".sahel-play:has-text('Play')")
                mark = " (default)" if per == DEFAULT_DAYS_PER_FRAME else ""
                print(f"browser Play, {per} days per frame{mark}: "
                      f"{(last - first) / (t1 - t0):.1f} simulated days/s")
            times = []
            for _ in range(steps):
                before = page.inner_text(".sahel-date")
                svg = page.evaluate("() => document.querySelector('.sahel-map svg').outerHTML"
                                    ".length")
                t0 = time.perf_counter()
                page.click(".sahel-step")
                page.wait_for_function(
                    "([d, n]) => document.querySelector('.sahel-date').innerText !== d && "
                    "document.querySelector('.sahel-map svg').outerHTML.length !== n",
                    arg=[before, svg], polling="raf")
                times.append(1000 * (time.perf_counter() - t0))
                time.sleep(0.2)
            print(f"browser Step (click to new date and redrawn map, charts and log): median "
                  f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms over {steps}")
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    bench_frames(args.scenario, args.days)
    if args.browser:
        bench_browser(args.seconds, args.steps)


if __name__ == "__main__":
    main()
