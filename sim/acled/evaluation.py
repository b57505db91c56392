"""`score_ensemble`: an ensemble's draws against a user's ACLED (or UCDP GED) export.

Months are aligned (only whole months both cover, within `--months`; the rest are named in the
notes); the model's draws and two references computed from the same export are scored per
country-month and per PRIO-GRID cell-month (`sim.acled.scoring`): climatology, each unit's
monthly fatalities in the 12 months before the window as 12 draws (left out, with a note,
when the export does not cover those months), and zero. Results are written as CSV files and
two plots into a folder (by default `ENSEMBLE_DIR/score-<export's name>`), each file to a
temporary name and then renamed, so an interrupted scoring leaves no half-written file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.acled.actors import MappingReport, load_actor_map, map_events
from sim.acled.aggregate import (
    cell_months,
    country_months,
    country_units,
    long_frame,
    sahel_cells,
)
from sim.acled.ensembles import EnsembleRuns, cell_draws, country_draws, open_ensemble
from sim.acled.errors import AcledError
from sim.acled.reading import EventFile, read_events
from sim.acled.scoring import SCORES, score_units, scoringrules, summarise
from sim.files import atomic_to_csv

LEVELS = ("country", "cell")
HISTORY_MONTHS = 12
Progress = Callable[[int, int], None]  # progress(done, total) while runs are read


@dataclass(slots=True)
class ScoreResult:
    """What a scoring found: the summary, the per-unit scores, notes and files."""

    summary: pd.DataFrame  # level, forecast, units, crps, skill, mis_90, coverage, ignorance
    units: dict[str, pd.DataFrame]  # level -> one row per forecast and unit-month
    months: pd.PeriodIndex
    runs: int
    scenario: str
    events: EventFile
    mapping: MappingReport
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    out: Path | None = None


def month_span(months: pd.PeriodIndex) -> str:
    """Months as consecutive ranges: '2023-01 to 2023-12, 2025-03'."""
    if not len(months):
        return "none"
    ordered = sorted(set(months))
    spans, start, prev = [], ordered[0], ordered[0]
    for month in ordered[1:]:
        if month != prev + 1:
            spans.append((start, prev))
            start = month
        prev = month
    spans.append((start, prev))
    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in spans)


def align_months(simulated: pd.PeriodIndex, observed: pd.PeriodIndex, source: str,
                 wanted: pd.PeriodIndex | None = None) -> tuple[pd.PeriodIndex, list[str]]:
    """The months to score (whole months both cover, within `wanted`) and what was left out.

    Raises:
        AcledError: no month is left.
    """
    scope = wanted if wanted is not None else simulated.union(observed)
    window = scope.intersection(simulated).intersection(observed).sort_values()
    notes = []
    for reason, left in (("not simulated (whole months only)", scope.difference(simulated)),
                         (f"not in {source}", scope.intersection(simulated).difference(
                             observed))):
        if len(left):
            notes.append(f"months left out, {reason}: {month_span(left)}")
    if not len(window):
        raise AcledError(f"no month to score: the ensemble covers {month_span(simulated)}, "
                         f"{source} {month_span(observed)}"
                         + (f", --months {month_span(wanted)}" if wanted is not None else ""))
    return window, notes


def score_ensemble(ensemble_dir: str | Path, acled: str | Path, level: str = "both",
                   months: pd.PeriodIndex | None = None, actors: str | Path | None = None,
                   scenario: str | None = None, out: Path | None = None, plots: bool = True,
                   progress: Progress | None = None) -> ScoreResult:
    """Score an ensemble's draws against an export; write the tables and plots into `out`.

    Args:
        ensemble_dir: the folder of `sahel-sim ensemble` or `sahel-sim compare`.
        acled: the ACLED (or UCDP GED) CSV export.
        level: "country", "cell" or "both".
        months: the months to score (default: every whole month both cover).
        actors: an actor mapping file (default: the bundled one).
        scenario: which scenario of a comparison's folder (default: its baseline).
        out: the output folder (default: ENSEMBLE_DIR/score-<export's stem>, with the
            scenario's label for a comparison's folder).
        plots: write crps_map.png and country_months.png.
        progress: called as progress(done, total) while the runs are read.

    Raises:
        AcledError: bad input (one line).
    """
    if level not in (*LEVELS, "both"):
        raise AcledError(f"--level: {level!r} is not one of country, cell, both")
    scoringrules()
    data = read_events(acled)
    _, mapping = map_events(data.events, load_actor_map(actors, baseline_factions()))
    runs = open_ensemble(ensemble_dir, scenario)
    window, notes = align_months(runs.months, data.months, Path(acled).name, months)
    history = pd.period_range(window[0] - HISTORY_MONTHS, window[0] - 1, freq="M")
    if history[0] < data.months[0]:
        notes.append(f"no climatology reference: {Path(acled).name} starts in "
                     f"{data.months[0]}; it needs the {HISTORY_MONTHS} months before the "
                     f"window ({month_span(history)})")
        history = None
    levels = list(LEVELS) if level == "both" else [level]
    if "cell" in levels and len(runs.has_cells()) < len(runs.run_ids):
        if level == "cell":
            raise AcledError(f"{runs.folder}: {len(runs.run_ids) - len(runs.has_cells())} of "
                             f"{len(runs.run_ids)} runs have no cell-month file (made before "
                             "they were kept); run the ensemble's command again to add them")
        notes.append("cell-months not scored: the runs have no cell-month files (made before "
                     "they were kept); run the ensemble's command again to add them")
        levels.remove("cell")
    counter = _Counter(progress, len(runs.run_ids) * len(levels))
    frames, units, observed, draws = [], {}, {}, {}
    for name in levels:
        obs, model, past, table = _level_data(name, data, runs, window, history, counter, notes)
        scores = score_units(obs, model, past)
        summary = summarise(scores)
        summary.insert(0, "level", name)
        frames.append(summary)
        units[name] = _unit_frame(table, window, obs, scores)
        observed[name], draws[name] = obs, model
    result = ScoreResult(pd.concat(frames, ignore_index=True), units, window,
                         len(runs.run_ids), runs.scenario, data, mapping, notes)
    stem = Path(acled).stem
    result.out = out or runs.folder / (f"score-{stem}" if runs.kind == "ensemble"
                                       else f"score-{stem}-{runs.scenario}")
    _write(result, observed, draws, plots, f"{runs.scenario} ({len(runs.run_ids)} runs) vs "
           f"{Path(acled).name}, {month_span(window)}")
    return result


def baseline_factions() -> dict[str, str]:
    """Faction id -> kind of the bundled baseline (the names the actor mapping may use)."""
    from sim.scenario import load_scenario, resolve_scenario_path

    scenario = load_scenario(resolve_scenario_path("baseline"))
    return {fid: f.kind for fid, f in scenario.factions.items()}


class _Counter:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        if progress is not None:
            progress(0, total)

    def __call__(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _level_data(level: str, data: EventFile, runs: EnsembleRuns, window: pd.PeriodIndex,
                history: pd.PeriodIndex | None, counter: _Counter, notes: list[str]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, pd.DataFrame]:
    """Observations, model draws, the climatology's history and the units of one level."""
    if level == "country":
        obs = country_months(data.events, window)
        model = country_draws(runs, window, counter)
        past = None if history is None else country_months(data.events, history)
        return obs, model, past, country_units()
    cells = sahel_cells()
    obs, outside = cell_months(data.events, window, cells)
    if outside:
        notes.append(f"{outside:,} fatalities in the scored months fall outside the three "
                     "countries' PRIO-GRID cells (by their coordinates) and are not scored per "
                     "cell")
    model = cell_draws(runs, window, cells, counter)
    past = None if history is None else cell_months(data.events, history, cells)[0]
    return obs, model, past, cells


def _unit_frame(units: pd.DataFrame, window: pd.PeriodIndex, obs: np.ndarray,
                scores: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    base = long_frame(obs, window, units, "observed")
    frames = []
    for name, values in scores.items():
        frame = base.copy()
        frame.insert(0, "forecast", name)
        for score in SCORES:
            frame[score] = values[score]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _write(result: ScoreResult, observed: dict[str, np.ndarray],
           draws: dict[str, np.ndarray], plots: bool, title: str) -> None:
    out = result.out
    assert out is not None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AcledError(f"--out: cannot create {out}: {exc.strerror or exc}") from None
    tables = {"scores.csv": result.summary,
              **{f"{level}_month_scores.csv": frame for level, frame in result.units.items()}}
    for name, frame in tables.items():
        result.files.append(atomic_to_csv(frame, out / name, index=False, float_format="%.6g"))
    if not plots:
        return
    from sim.acled.plots import country_months_figure, crps_map_figure, save_figure

    if "country" in observed:
        fig = country_months_figure(result.months, observed["country"], draws["country"],
                                    title)
        result.files.append(save_figure(fig, out / "country_months.png"))
    if "cell" in result.units:
        cells = result.units["cell"]
        model = cells[cells["forecast"] == "model"]
        by_cell = model.groupby("prio_gid")["crps"].mean()
        fig = crps_map_figure(by_cell, f"mean CRPS per cell-month: {title}")
        result.files.append(save_figure(fig, out / "crps_map.png"))
