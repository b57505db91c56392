"""The state behind one browser session's explore view, free of any widget code.

`ExploreSession` owns the session's model and the figures drawn from it; every read and every
step happens under its lock, because the Play loop steps the model in a background thread while
the page may render from another. The scenario files offered come from `scenario_files()`,
the event table's rows from `event_items()`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from sim.model import SahelModel
from sim.scenario import Scenario, bundled_scenarios, load_scenario

EVENT_ROWS = 200  # latest events shown in the event table
EVENT_COLUMNS = {
    "event_date": "date", "event_type": "event type", "sub_event_type": "sub-event type",
    "actor1": "actor 1", "actor2": "actor 2", "country": "country", "admin1": "admin1",
    "location": "location", "latitude": "lat", "longitude": "lon", "fatalities": "fatalities",
}
SCENARIO_DIR_ENV = "SAHEL_SCENARIO_DIR"
DEFAULT_SCENARIO = "baseline"
PLAY_CHART_EVERY = 7  # days between chart redraws while playing
FRAME_TIMEOUT_S = 5.0  # longest wait of the Play loop for the page to draw a frame
# Each chart (and the event table) gets its own day in the Play cycle, so one frame redraws
# at most one of them.
CHART_SLOTS = {"shares": 0, "fatalities": 2, "credibility": 4, "events": 6}


def scenario_files() -> list[Path]:
    """The scenario files the dashboard offers.

    `$SAHEL_SCENARIO_DIR` (folders separated by `os.pathsep`) replaces the bundled `scenarios/`
    folder; a folder may itself be `scenarios/`, so tests can add a short scenario beside it.
    """
    folders = [f for f in os.environ.get(SCENARIO_DIR_ENV, "").split(os.pathsep) if f.strip()]
    if not folders:
        return bundled_scenarios()
    files: list[Path] = []
    for folder in folders:
        files += sorted(Path(folder).expanduser().resolve().glob("*.toml"))
    return files


def default_scenario(files: list[Path]) -> Path | None:
    """The baseline if offered, else the first file."""
    for path in files:
        if path.stem == DEFAULT_SCENARIO:
            return path
    return files[0] if files else None


def refresh_key(day: int, playing: bool, slot: str, every: int = PLAY_CHART_EVERY
                ) -> tuple[str, int]:
    """When a chart must be redrawn: every day when paused, once a week while playing.

    While playing, the key of chart `slot` changes on the days where (day - offset) is a
    multiple of `every`, with a different offset per chart, so a Play frame redraws the map and
    at most one chart. Pausing changes every key, so all charts catch up at once.
    """
    if not playing or every <= 1:
        return ("day", day)
    return ("play", (day - CHART_SLOTS[slot]) // every)


def event_items(events: pd.DataFrame, n: int = EVENT_ROWS) -> list[dict[str, Any]]:
    """The latest `n` events as table rows (JSON-ready), newest first."""
    latest = events.iloc[::-1].head(n)
    frame = latest[list(EVENT_COLUMNS)].copy()
    frame["event_date"] = pd.to_datetime(frame["event_date"]).dt.strftime("%Y-%m-%d")
    frame[["latitude", "longitude"]] = frame[["latitude", "longitude"]].round(3)
    frame.insert(0, "row", range(len(frame)))
    return cast(list[dict[str, Any]], frame.to_dict("records"))


@dataclass
class ExploreSession:
    """One session's model, its scenario and settings, and caches of what is drawn from it.

    Attributes:
        path: the scenario file.
        overrides: dotted parameter overrides applied on loading it.
        seed: the seed of the model (None: the scenario's).
        scenario: the loaded, validated scenario.
        model: the model being explored.
        last_frame_ms: duration of the last Play frame (step and redraw), for display.
    """

    path: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    scenario: Scenario | None = None
    model: SahelModel | None = None
    last_frame_ms: float | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    drawn: threading.Event = field(default_factory=threading.Event, repr=False)
    _cache: dict[str, tuple[Any, Any]] = field(default_factory=dict, repr=False)
    _drawn_day: int = field(default=-1, repr=False)

    def load(self, path: Path, overrides: dict[str, Any] | None = None,
             seed: int | None = None) -> None:
        """Load a scenario and build a fresh model.

        Raises:
            ScenarioError: the scenario (with these overrides) is not valid; nothing changes.
        """
        overrides = dict(overrides or {})
        scenario = load_scenario(path, overrides=overrides)
        model = SahelModel(scenario, rng=scenario.seed if seed is None else seed)
        with self.lock:
            self.path, self.overrides, self.seed = path, overrides, seed
            self.scenario, self.model = scenario, model
            self.last_frame_ms = None
            self._cache.clear()
            self._drawn_day = -1

    def reset(self) -> None:
        """Rebuild the model from the same scenario, overrides and seed (back to day 0)."""
        self.load(self.path, self.overrides, self.seed)

    @property
    def effective_seed(self) -> int:
        """The seed the model was built with."""
        assert self.scenario is not None
        return self.scenario.seed if self.seed is None else self.seed

    def step(self, cancel: threading.Event | None = None) -> int | None:
        """Simulate one day; return the days done, or None (no step) at the end or on `cancel`.

        `cancel` is checked under the lock, so a Play loop being stopped by a reset cannot step
        the model that the reset has just built.
        """
        with self.lock:
            if self.model is None or self.model.finished or (cancel and cancel.is_set()):
                return None
            self.model.step()
            return int(self.model.time)

    def day(self) -> int:
        """Days simulated so far."""
        with self.lock:
            return 0 if self.model is None else int(self.model.time)

    def _cached(self, name: str, build: Any) -> Any:
        """`build(model)` once per model and day."""
        with self.lock:
            assert self.model is not None
            key = (id(self.model), int(self.model.time))
            hit = self._cache.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]
            value = build(self.model)
            self._cache[name] = (key, value)
            return value

    def events(self) -> pd.DataFrame:
        """The model's event log (ACLED columns), cached for the current day."""
        return self._cached("events", lambda m: m.events())

    def timeseries(self) -> pd.DataFrame:
        """The model's daily time series, cached for the current day."""
        return self._cached("timeseries", lambda m: m.timeseries())

    def wait_drawn(self, day: int, cancel: threading.Event, timeout: float = FRAME_TIMEOUT_S
                   ) -> None:
        """Block until the page has drawn `day` (see `mark_drawn`), `cancel` or a timeout.

        The Play loop waits here, so it never steps faster than the page draws: a render
        running in another thread (a click) would otherwise be asked for a new frame before it
        finished the last one, again and again.
        """
        deadline = time.monotonic() + timeout
        while not cancel.is_set() and time.monotonic() < deadline:
            with self.lock:
                if self._drawn_day >= day:
                    return
            self.drawn.wait(0.05)
            self.drawn.clear()

    def mark_drawn(self, day: int) -> None:
        """Record that the map of `day` reached the page (called after a render)."""
        with self.lock:
            self._drawn_day = max(self._drawn_day, day)
        self.drawn.set()

    def draw(self, render: Any) -> Any:
        """Call `render(model)` under the lock (figures read the model's arrays)."""
        with self.lock:
            assert self.model is not None
            return render(self.model)

