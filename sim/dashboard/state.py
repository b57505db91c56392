"""The state behind one browser session's explore view, free of any widget code.

`ExploreSession` owns the session's model and, in a `DayFrames` recorder, what the map needs of
every day simulated so far (controller, Kalyvas zone, nominal control, residents, displaced,
Russian units), so a date slider can go back and forth without re-running the model. Every read
and every step happens under its lock, because the Play loop steps the model in a background
thread while the page may render from another. The scenario files offered come from
`scenario_files()`; `restore` rebuilds a session from what the page's URL keeps
(`sim.dashboard.url_state.ViewState`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.dashboard.days import (
    DayFrames,
)
from sim.dashboard.url_state import ViewState
from sim.geography import COUNTRIES
from sim.model import SahelModel
from sim.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario

SCENARIO_DIR_ENV = "SAHEL_SCENARIO_DIR"
DEFAULT_SCENARIO = "baseline"
PLAY_CHART_EVERY = 7  # days between chart redraws while playing
FRAME_TIMEOUT_S = 5.0  # longest wait of the Play loop for the page to draw a frame
MAP_RECENT_DAYS = 30
# Each chart (and the event table) gets its own day in the Play cycle, so one frame redraws
# at most one of them.
CHART_SLOTS = {"shares": 0, "fatalities": 2, "credibility": 4, "events": 6}
ZONE_WORDS = {0: "0: ungoverned", 1: "1: state control", 2: "2: state dominant", 3: "3: contested",
              4: "4: armed group dominant", 5: "5: armed group control"}


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


def public_message(message: str, path: Path | None = None) -> str:
    """An error message for the page: the scenario's file name instead of its server path."""
    out = message
    if path is not None:
        for full in (str(path), str(path.resolve())):
            out = out.replace(full, path.name)
    for folder in {str(p.parent) for p in scenario_files()} | {str(Path.cwd())}:
        out = out.replace(folder + os.sep, "")
    return out


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


# ------------------------------------------------------------------------------------------
# Per-day snapshots for the date slider
# ------------------------------------------------------------------------------------------


@dataclass
class ExploreSession:
    """One session's model, its scenario and settings, and caches of what is drawn from it.

    Attributes:
        path: the scenario file.
        overrides: dotted parameter overrides applied on loading it.
        seed: the seed of the model (None: the scenario's).
        scenario: the loaded, validated scenario.
        model: the model being explored.
        frames: what the map needs of every day simulated (for the date slider).
        last_frame_ms: duration of the last Play frame (step and redraw), for display.
    """

    path: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    scenario: Scenario | None = None
    model: SahelModel | None = None
    frames: DayFrames | None = None
    last_frame_ms: float | None = None
    shown_day: int = 0  # the day the page shows (what downloads export)
    zoom: str = "region"
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
        frames = DayFrames(model)
        with self.lock:
            self.path, self.overrides, self.seed = path, overrides, seed
            self.scenario, self.model, self.frames = scenario, model, frames
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

    def view_state(self, day: int, zoom: str = "region") -> ViewState:
        """The URL state of this session at `day`."""
        return ViewState(self.path.stem, self.seed,
                         tuple(sorted((k, float(v)) for k, v in self.overrides.items())),
                         day, zoom)

    def step(self, cancel: threading.Event | None = None, days: int = 1) -> int | None:
        """Simulate up to `days` days; the days done, or None (no step) at the end or on cancel.

        `cancel` is checked under the lock, so a Play loop being stopped by a reset cannot step
        the model that the reset has just built.
        """
        with self.lock:
            if self.model is None or self.model.finished or (cancel and cancel.is_set()):
                return None
            for _ in range(max(1, days)):
                if self.model.finished:
                    break
                self.model.step()
                assert self.frames is not None
                self.frames.record(self.model)
            return int(self.model.time)

    def run_to(self, day: int) -> int:
        """Step until `day` (or the end); return the day reached (replaying a URL)."""
        with self.lock:
            while self.model is not None and not self.model.finished and self.model.time < day:
                self.step()
            return self.day()

    def day(self) -> int:
        """Days simulated so far."""
        with self.lock:
            return 0 if self.model is None else int(self.model.time)

    def date_of(self, day: int) -> dt.date:
        """The date reached after `day` days."""
        assert self.scenario is not None
        return self.scenario.start + dt.timedelta(days=day)

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

    def timeseries_upto(self, day: int) -> pd.DataFrame:
        """The time series of the first `day` days (the view of that day)."""
        ts = self.timeseries()
        if day >= self.day():
            return ts
        return ts[ts["date"] < pd.Timestamp(self.date_of(day))]

    def events_upto(self, day: int) -> pd.DataFrame:
        """Events that happened in the first `day` days."""
        events = self.events()
        if day >= self.day() or events.empty:
            return events
        return events[events["event_date"] < pd.Timestamp(self.date_of(day))]

    def recent_events(self, day: int, days: int = MAP_RECENT_DAYS) -> pd.DataFrame:
        """Deadly events of the `days` days before the view of `day`."""
        events = self.events_upto(day)
        if events.empty:
            return events
        cutoff = pd.Timestamp(self.date_of(day)) - pd.Timedelta(days=days)
        return events[(events["event_date"] >= cutoff) & (events["fatalities"] > 0)]

    def control_codes(self, day: int) -> np.ndarray:
        """Colour code per cell on `day` (ny, nx): actors, contested, ungoverned; -1 outside.

        Codes: 0 the state, 1..A-1 the armed groups, A contested, A + 1 ungoverned (no actor
        reaches the minimum influence; `sim.mechanics.control`).
        """
        with self.lock:
            assert self.model is not None and self.frames is not None
            frames, world = self.frames, self.model.world
            day = min(day, frames.last)
            n_actors = len(world.actor_ids)
            code = np.full(world.n_cells, -1, dtype=np.int16)
            controller = frames.controller[day].astype(np.int16)
            # controller -1 contested, -2 ungoverned: after the actors, in that order
            values = np.where(controller < 0, n_actors - 1 - controller, controller)
            code[frames.sahel_idx] = values
            return code.reshape(world.geo.shape).T

    def units_on(self, day: int) -> np.ndarray:
        """Russian units on `day`: rows of (lon, lat, strength)."""
        with self.lock:
            assert self.model is not None and self.frames is not None
            rows = self.frames.units[min(day, self.frames.last)]
            if rows.size == 0:
                return np.zeros((0, 3))
            geo = self.model.world.geo
            cells = rows[:, 0].astype(np.int64)
            return np.column_stack([geo.lon.reshape(-1)[cells], geo.lat.reshape(-1)[cells],
                                    rows[:, 1]])

    def cell_details(self, lon: float, lat: float, day: int) -> dict[str, str] | None:
        """What a cell was on `day`: country, region, controller, zone, people, events."""
        with self.lock:
            assert self.model is not None and self.frames is not None
            model, frames = self.model, self.frames
            geo, world = model.world.geo, model.world
            try:
                x, y = geo.cell_of(lat, lon)
            except ValueError:
                return None
            if not (0 <= x < geo.nx and 0 <= y < geo.ny):
                return None
            cell = x * geo.ny + y
            slot = int(world.sahel_slot[cell])
            if slot < 0:
                return None
            day = min(day, frames.last)
            actor = int(frames.controller[day, slot])
            zone = int(frames.zone[day, slot])
            region = int(world.region[cell])
            who = ({-1: "contested", -2: "ungoverned (no force reaches it)"}[actor] if actor < 0
                   else label_of(model, world.actor_ids[actor]))
            russian = frames.units[day]
            here = russian[russian[:, 0] == cell] if russian.size else russian
            details = {
                "cell": f"{geo.lat[x, y]:.2f} N, {abs(geo.lon[x, y]):.2f} "
                        f"{'E' if geo.lon[x, y] >= 0 else 'W'}",
                "country": COUNTRIES[list(COUNTRIES)[int(world.country_bucket[cell])]],
                "region": geo.regions[region].name if region >= 0 else "",
                "controlled by": who,
                "Kalyvas zone": ZONE_WORDS.get(zone, str(zone)),
                "residents": f"{frames.residents[day, slot]:,.0f}",
                "displaced arrived here": f"{frames.displaced[day, slot]:,.0f}",
            }
            if here.size:
                details["Russian units"] = f"{here[0, 1]:,.0f} personnel"
        events = self.recent_events(day)
        mine = events[(events["cell_x"] == x) & (events["cell_y"] == y)] if not events.empty \
            else events
        if mine.empty:
            details[f"events, last {MAP_RECENT_DAYS} days"] = "none"
        else:
            latest = mine.iloc[-1]
            details[f"events, last {MAP_RECENT_DAYS} days"] = (
                f"{len(mine)}, {int(mine['fatalities'].sum()):,} deaths; latest "
                f"{latest['event_date']:%Y-%m-%d} {latest['sub_event_type']} "
                f"({latest['actor1']} vs {latest['actor2'] or '-'})")
        return details

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


def label_of(model: SahelModel, actor: str) -> str:
    """A faction's or actor's label for people ('JNIM', 'state (junta forces)')."""
    if actor == "state":
        return "state (junta forces)"
    if actor == "contested":
        return "contested"
    return model.spec.factions[actor].label.split(" (")[0]


def restore(files: list[Path], view: ViewState) -> tuple[ExploreSession | None, str | None]:
    """A session for a URL's state (scenario, seed, parameters), stepped to its day.

    Falls back to the default scenario when the URL names none or an unknown one; returns the
    reason when nothing can load.
    """
    path = next((f for f in files if f.stem == view.scenario), None) or default_scenario(files)
    if path is None:
        return None, "no scenario files found (see SAHEL_SCENARIO_DIR)"
    session = ExploreSession(path)
    overrides = dict(view.overrides) if path.stem == view.scenario else {}
    seed = view.seed if path.stem == view.scenario else None
    try:
        session.load(path, overrides, seed)
    except ScenarioError as exc:
        if not overrides and seed is None:
            return None, public_message(str(exc), path)
        try:
            session.load(path)
        except ScenarioError as again:
            return None, public_message(str(again), path)
    if view.day and path.stem == view.scenario:
        session.run_to(view.day)
    return session, None
