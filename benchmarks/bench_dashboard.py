"""Speed of the dashboard's Play frame: one day's step plus the redraw of what changed.

A Play frame of the explore view is: `model.step()`, the event log (`model.events()`), the map
rendered to PNG bytes (`MapFigure.render`, what the page's image widget receives) and, on the
days of its slot in the weekly cycle (`sim.dashboard.state.refresh_key`), one chart (control
shares, fatalities or credibility, with the time series they need) or the event table. This
measures exactly those calls, through `ExploreSession` as the page makes them, over
`--days` days of the baseline at its default resolution, and prints:

- the median, 90th percentile and maximum Play frame (the goal is a median under 250 ms);
- the median frame with only the map (most days) and with a chart;
- a paused Step (the map and every chart redrawn), and the first frame (full map redraw).

With `--page`, it also plays the real Solara page in this process (no browser) for
`--page-seconds` and prints the days it advanced per second, which adds Solara's rendering
and the Play loop's pause between frames.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--days 120] [--page]
These machines are shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from sim.dashboard.figures import MapFigure, credibility_png, fatalities_png, shares_png
from sim.dashboard.state import CHART_SLOTS, ExploreSession, event_items, refresh_key

ROOT = Path(__file__).resolve().parent.parent
CHARTS = {
    "shares": lambda s: s.draw(lambda m: shares_png(m, s.timeseries())),
    "fatalities": lambda s: s.draw(lambda m: fatalities_png(m, s.timeseries())),
    "credibility": lambda s: s.draw(lambda m: credibility_png(m, s.timeseries())),
    "events": lambda s: event_items(s.events()),
}


def frame(session: ExploreSession, map_figure: MapFigure, playing: bool,
          keys: dict[str, object]) -> tuple[float, list[str]]:
    """One frame as the page runs it; its milliseconds and the charts it redrew."""
    start = time.perf_counter()
    session.step()
    day = session.day()
    events = session.events()
    session.draw(lambda m: map_figure.render(m, events))
    redrawn = []
    for name in CHART_SLOTS:
        key = refresh_key(day, playing, name)
        if keys.get(name) != key:
            CHARTS[name](session)
            keys[name] = key
            redrawn.append(name)
    return 1000.0 * (time.perf_counter() - start), redrawn


def bench_frames(scenario: Path, days: int) -> None:
    """Play frames over `days` days, then paused Steps; print the figures."""
    session = ExploreSession(scenario)
    session.load(scenario)
    map_figure = MapFigure()
    keys: dict[str, object] = {}
    first, _ = frame(session, map_figure, True, keys)
    play: list[tuple[float, list[str]]] = [frame(session, map_figure, True, keys)
                                           for _ in range(days - 1)]
    paused = [frame(session, map_figure, False, keys)[0] for _ in range(10)]
    all_ms = sorted(ms for ms, _ in play)
    map_only = [ms for ms, redrawn in play if not redrawn]
    with_chart = [ms for ms, redrawn in play if set(redrawn) - {"events"}]
    print(f"scenario {scenario.name}, {days} Play frames from {session.scenario.start}, "
          f"resolution {session.scenario.resolution} degrees")
    print(f"Play frame (step + events + map PNG + weekly chart): median "
          f"{statistics.median(all_ms):.0f} ms, p90 {all_ms[int(0.9 * len(all_ms))]:.0f} ms, "
          f"max {all_ms[-1]:.0f} ms")
    print(f"  frames with the map only: median {statistics.median(map_only):.0f} ms "
          f"({len(map_only)} frames)")
    print(f"  frames with a chart:      median {statistics.median(with_chart):.0f} ms "
          f"({len(with_chart)} frames)")
    print(f"first frame (full map draw): {first:.0f} ms; paused Step (map + all charts + "
          f"table): median {statistics.median(paused):.0f} ms")


def bench_page(seconds: float) -> None:
    """Play the Solara page in this process for `seconds`; print days per second."""
    import ipyvuetify as v
    import ipywidgets
    import solara
    from solara.server import kernel_context

    from sim.dashboard import ExploreView

    def widgets(root: ipywidgets.Widget) -> list[ipywidgets.Widget]:
        out, todo = [], [root]
        while todo:
            w = todo.pop()
            out.append(w)
            todo += [c for c in getattr(w, "children", None) or []
                     if isinstance(c, ipywidgets.Widget)]
        return out

    def find(root: ipywidgets.Widget, css: str) -> ipywidgets.Widget:
        return next(w for w in widgets(root) if css in (getattr(w, "class_", "") or ""))

    context = kernel_context.create_dummy_context()
    with context:
        box, render_context = solara.render(ExploreView(), handle_error=False)
        play = find(box, "sahel-play")
        assert isinstance(play, v.Btn)
        play.click()
        start = time.perf_counter()
        time.sleep(seconds)
        play.click()
        elapsed = time.perf_counter() - start
        status = find(box, "sahel-day").children[0]
        days = int(str(status).split()[1])
        print(f"Solara page, in process (no browser): {days} days in {elapsed:.1f} s = "
              f"{1000 * elapsed / max(days, 1):.0f} ms per day, including the Play loop's "
              "20 ms pause between frames")
        render_context.close()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--page", action="store_true", help="also play the Solara page")
    parser.add_argument("--page-seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    bench_frames(args.scenario, args.days)
    if args.page:
        bench_page(args.page_seconds)


if __name__ == "__main__":
    main()
