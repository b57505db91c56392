"""Headline outcomes of an experiment's runs, one row per run.

The outcomes are declared in `sim.outputs` (`OUTCOMES`, `HEADLINE_OUTCOMES`) and computed there
by `headline_outcomes`, the one calculator the CLI, experiments and the dashboard share;
`outcome_frame` collects them for an experiment's finished runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.outputs import HEADLINE_OUTCOMES, OUTCOME_COLUMNS, headline_outcomes

__all__ = ["HEADLINE_OUTCOMES", "headline_outcomes", "outcome_frame"]
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.experiments.result_store import ResultStore
    from sim.experiments.runs import PlannedRun

def _outcomes(store: ResultStore, run_ids: Sequence[str]) -> np.ndarray:
    """Headline outcomes of runs, (runs, outcomes)."""
    out = np.empty((len(run_ids), len(HEADLINE_OUTCOMES)))
    for r, run_id in enumerate(run_ids):
        values = headline_outcomes(store.read(run_id, list(OUTCOME_COLUMNS)))
        out[r] = [values[name] for name in HEADLINE_OUTCOMES]
    return out


def outcome_frame(store: ResultStore, scenario_of: Mapping[str, Scenario],
                  runs: Sequence[PlannedRun], finished: set[str]) -> pd.DataFrame:
    """The headline outcomes of an experiment's finished runs, one row per planned run.

    Columns: scenario, point, replicate, seed, draw (only when runs drew their parameters from
    a posterior: the draw's id), run_id, then `HEADLINE_OUTCOMES`; runs not in `finished` are
    left out. `scenario_of` maps a scenario hash to its scenario (every run's
    scenario must be known).
    """
    ok = [r for r in runs if r.run_id in finished]
    values = np.empty((len(ok), len(HEADLINE_OUTCOMES)))
    by_hash: dict[str, list[int]] = {}
    for i, run in enumerate(ok):
        by_hash.setdefault(run.scenario_hash, []).append(i)
    for scenario_hash, rows in by_hash.items():
        if scenario_hash not in scenario_of:
            raise KeyError(f"no scenario for hash {scenario_hash}")
        values[rows] = _outcomes(store, [ok[i].run_id for i in rows])
    frame = pd.DataFrame(values, columns=HEADLINE_OUTCOMES)
    meta = pd.DataFrame({"scenario": [r.scenario for r in ok], "point": [r.point for r in ok],
                         "replicate": [r.replicate for r in ok], "seed": [r.seed for r in ok],
                         "run_id": [r.run_id for r in ok]})
    if any(r.draw is not None for r in runs):
        meta.insert(4, "draw", [r.draw for r in ok])
    return pd.concat([meta, frame], axis=1)
