"""A second stage of the calibration: a few parameters fitted to a few targets, given a posterior.

ABC rejection whose prior is the first stage's posterior for every parameter that posterior
holds, and the priors file for the stage's own parameters. Proposal i takes a row of the
posterior by weight (`Posterior.draw`), draws the stage's parameters from their priors
(replacing any value the row had) and runs the scenario with its own seed. Its distance is the
fit's (`RangeDistance`: how far outside each stage target's range, in widths, weighted by
confidence). The proposals whose distance is at most epsilon are accepted, equally weighted:
epsilon is 0 when at least `keep` proposals put every stage target in its range (exact ABC for
range data: a parameter point's posterior weight is then its chance of landing in the ranges),
else the keep-th smallest distance. With k seeds per proposal (config `seeds_per_proposal`) a
proposal is k runs, seeds spawned from its own (`particle_seeds`), and its statistics are their
medians, as `calibrate --seeds-per-particle` judges a particle: the chance that the median of k
runs lands in range then weighs the point, which a count as noisy as a country's coup attempts
needs. A proposal whose stage statistic is undefined (a ratio over
a window without deaths) or whose run failed is never accepted.

Every proposal's parameters and seed follow from (posterior, priors, seed, i) alone, so the runs
are the same whatever the chunking, the workers or an interruption: `run_stage` appends each
chunk's runs to `runs.csv`, and a later call with the same config resumes after them (or, with
more proposals, extends them).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.errors import CalibrationError
from sim.calibration.posterior import DRAW, WEIGHT, Posterior
from sim.calibration.targets import Target, target_signature
from sim.files import atomic_path, atomic_to_csv, atomic_write_text

STAGE_STREAM = 0x73746167  # mixed into the seed of the stage parameters' draws
RUNS_FILE, CONFIG_FILE = "runs.csv", "config.json"
INPUT_FILE = "first_stage_posterior.csv"
POSTERIOR_FILE, FITTED_FILE = "posterior.csv", "fitted.toml"
SUMMARY_FILE, PLOT_FILE = "stage.json", "stage.png"
OUTPUT_FILES = (RUNS_FILE, POSTERIOR_FILE, FITTED_FILE, SUMMARY_FILE, PLOT_FILE)
PROPOSAL, SOURCE_DRAW, SEED, DISTANCE = "proposal", "first_stage_draw", "seed", "distance"
CHUNK = 100  # proposals run between two saves of runs.csv
SEEDS_PER_PROPOSAL = "seeds_per_proposal"  # the config's key; absent means 1

SimulateChunk = Callable[[list[dict[str, Any]], list[int]], pd.DataFrame]


def plan_proposals(posterior: Posterior, priors: Sequence[Any], proposals: int, seed: int
                   ) -> pd.DataFrame:
    """The proposals: number, the first stage's draw, the model seed and the stage's values.

    The first k rows do not depend on `proposals`.
    """
    from sim.calibration.screening import prior_overrides
    from sim.experiments.experiment import spawn_seeds

    draws = posterior.draw(proposals, seed)
    unit = np.random.default_rng([STAGE_STREAM, int(seed)]).random((proposals, len(priors)))
    bounds = np.array([p.sampled_bounds for p in priors], dtype=float).reshape(-1, 2)
    points = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
    values = pd.DataFrame(prior_overrides(priors, points), columns=[p.name for p in priors])
    for p in priors:
        if p.integer:
            values[p.name] = values[p.name].round()
    head = pd.DataFrame({PROPOSAL: range(proposals), SOURCE_DRAW: [d.id for d in draws],
                         "_row": [d.row for d in draws], SEED: spawn_seeds(seed, proposals)})
    return pd.concat([head, values], axis=1)


def proposal_overrides(posterior: Posterior, plan: pd.DataFrame, priors: Sequence[Any]
                       ) -> list[dict[str, Any]]:
    """Each proposal's parameters: its posterior row, with the stage's parameters set."""
    out = []
    for record in plan.to_dict("records"):
        values = dict(posterior.row(int(record["_row"])).parameters)
        values.update({p.name: int(record[p.name]) if p.integer else float(record[p.name])
                       for p in priors})
        out.append(values)
    return out


def stage_config(scenario: Any, posterior: Posterior, priors: Sequence[Any],
                 stage_targets: Sequence[Target], targets: Sequence[Target], seed: int,
                 seeds_per_proposal: int = 1) -> dict[str, Any]:
    """What a stage's runs depend on; a folder holding the same config is resumed.

    Not the number of proposals: the first k are the same for any number, so a stage with
    more proposals extends the runs of one with fewer, and one with fewer uses their start.
    The seeds per proposal are recorded only when more than 1, so a stage of one seed keeps
    the config it had before they could be set.
    """
    from sim import __version__
    from sim.code_digest import code_digest

    config = {"scenario": scenario.name, "behaviour_hash": scenario.behaviour_hash(),
              "model_code": code_digest(), "version": __version__,
              "first_stage_posterior": posterior.sha256, "seed": seed,
              "priors": [[p.name, p.low, p.high, p.scale] for p in priors],
              "stage_targets": [t.name for t in stage_targets],
              "targets": target_signature(targets)}
    if seeds_per_proposal != 1:
        config[SEEDS_PER_PROPOSAL] = seeds_per_proposal
    return config


def proposal_statistics(simulate: SimulateChunk, overrides: Sequence[Mapping[str, Any]],
                        seeds: Sequence[int], names: Sequence[str], k: int) -> pd.DataFrame:
    """Each proposal's statistics (`names`): its run's, or the medians of its k runs.

    The k runs of a proposal have the seeds `particle_seeds(seed, k)` and its parameters; all
    the chunk's runs go to `simulate` at once (so its workers share them). A statistic is NaN
    only where it is NaN in every run; a proposal with a failed run (every statistic NaN) is
    failed, so never accepted.
    """
    from sim.calibration.calibrate import median_defined, particle_seeds

    if k == 1:
        return simulate([dict(o) for o in overrides], list(seeds))[list(names)]
    runs = simulate([dict(o) for o in overrides for _ in range(k)],
                    [s for seed in seeds for s in particle_seeds(seed, k)])
    values = runs[list(names)].to_numpy(float).reshape(len(seeds), k, len(names))
    medians = median_defined(values, axis=1)
    medians[np.isnan(values).all(axis=2).any(axis=1)] = math.nan  # a failed run
    return pd.DataFrame(medians, columns=list(names))


def run_stage(out: Path, config: dict[str, Any], plan: pd.DataFrame,
              overrides: Sequence[Mapping[str, Any]], simulate: SimulateChunk,
              targets: Sequence[Target], rerun: bool = False, chunk: int = CHUNK,
              progress: Callable[[int, int], object] | None = None) -> pd.DataFrame:
    """Run the proposals not yet in `out/runs.csv`, saving after each chunk; the plan's runs.

    With `rerun`, the stage's files in `out` are removed first (not the copy of the input,
    which may be the input). Without it, `out` must hold this config's runs or none of the
    stage's files. A proposal's row holds its statistics (`proposal_statistics`, with the
    config's seeds per proposal).

    Raises:
        CalibrationError: `out` holds another config's runs, an unreadable config, or a
            stage's file without its config; or its runs file does not match its config.
    """
    out.mkdir(parents=True, exist_ok=True)
    runs_file, config_file = out / RUNS_FILE, out / CONFIG_FILE
    plain = json.loads(json.dumps(config))
    if rerun:
        for name in (CONFIG_FILE, *OUTPUT_FILES):
            (out / name).unlink(missing_ok=True)
    recorded = _recorded_config(config_file)
    if recorded is None:
        present = [n for n in (*OUTPUT_FILES, INPUT_FILE) if (out / n).exists()]
        if present and not rerun:
            raise CalibrationError(
                f"{out / present[0]}: there without the stage's {CONFIG_FILE}, so not known to "
                "be a stage's; choose another --out, or pass --rerun to replace the stage's "
                "files there")
    elif recorded != plain:
        changed = sorted(k for k in set(plain) | set(recorded)
                         if recorded.get(k) != plain.get(k))
        raise CalibrationError(
            f"{out}: holds the runs of another stage (differs in: {', '.join(changed)}); "
            "choose another --out, or pass --rerun to replace them")
    names = [t.name for t in targets]
    columns = [c for c in plan.columns if c != "_row"] + names
    done = pd.DataFrame(columns=columns)
    if recorded is None or not runs_file.exists():
        atomic_write_text(config_file, json.dumps(config, indent=1) + "\n")
        atomic_to_csv(done, runs_file, index=False)
    else:
        done = _read_runs(runs_file, plan, columns)
    total, k = len(plan), int(config.get(SEEDS_PER_PROPOSAL, 1))
    if progress is not None:
        progress(min(len(done), total), total)
    for start in range(len(done), total, chunk):
        part = plan.iloc[start:start + chunk]
        stats = proposal_statistics(simulate, overrides[start:start + len(part)],
                                    part[SEED].astype(int).tolist(), names, k)
        rows = pd.concat([part.drop(columns="_row").reset_index(drop=True),
                          stats.reset_index(drop=True)], axis=1)
        done = rows if done.empty else pd.concat([done, rows], ignore_index=True)
        atomic_to_csv(done, runs_file, index=False, float_format="%.17g")
        if progress is not None:
            progress(len(done), total)
    return _read_runs(runs_file, plan, columns)


def accept(distances: np.ndarray, keep: int) -> tuple[np.ndarray, float]:
    """The accepted proposals (a mask) and epsilon: 0 if >= `keep` are at 0, else the keep-th.

    Raises:
        CalibrationError: no proposal has a defined distance.
    """
    finite = np.where(np.isfinite(distances), distances, math.inf)
    defined = int(np.isfinite(finite).sum())
    if defined == 0:
        raise CalibrationError("no proposal has a defined distance from the --to targets: "
                               "every run failed or left one of them undefined (see runs.csv)")
    if int((finite == 0).sum()) >= keep:
        return finite <= 0, 0.0
    epsilon = float(np.sort(finite)[min(keep, defined) - 1])
    return finite <= epsilon, epsilon


def stage_distance(stage_targets: Sequence[Target]) -> Any:
    """The fit's distance (`RangeDistance`) from the stage targets' ranges.

    Raises:
        CalibrationError: a target the fit cannot compare (as `summaries_for` says).
    """
    from sim.calibration.calibrate import summaries_for
    from sim.calibration.distances import RangeDistance

    return RangeDistance(summaries_for(stage_targets))


def stage_distances(runs: pd.DataFrame, stage_targets: Sequence[Target]) -> np.ndarray:
    """Each run's distance from the stage targets' ranges (nan where one is undefined)."""
    distance = stage_distance(stage_targets)
    return np.array([distance(row) for row in
                     runs[[t.name for t in stage_targets]].to_dict("records")], dtype=float)


def stage_posterior(posterior: Posterior, runs: pd.DataFrame, accepted: np.ndarray,
                    priors: Sequence[Any], plan: pd.DataFrame) -> pd.DataFrame:
    """The accepted proposals as a posterior file's table: parameters, `weight` 1, `draw`."""
    chosen = runs.loc[accepted]
    planned = plan.set_index(PROPOSAL).loc[chosen[PROPOSAL]]
    rows = planned["_row"].to_numpy(int)
    table = pd.DataFrame(posterior.values[rows], columns=list(posterior.names))
    for p in priors:
        table[p.name] = chosen[p.name].to_numpy(float)
    table[WEIGHT] = 1.0
    table[DRAW] = [f"{d}-{i}" for d, i in zip(planned[SOURCE_DRAW], chosen[PROPOSAL],
                                               strict=True)]
    return table


def copy_input(posterior: Posterior, out: Path) -> Path:
    """Keep the first stage's posterior in `out`, so the stage can be run again from it."""
    target = out / INPUT_FILE
    if target.resolve() != posterior.path.resolve():
        with atomic_path(target) as temp:
            shutil.copyfile(posterior.path, temp)
    return target


def _read_runs(runs_file: Path, plan: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(runs_file, dtype={SOURCE_DRAW: str})
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{runs_file}: unreadable ({exc}); pass --rerun") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CalibrationError(f"{runs_file}: no column {missing[0]!r}; pass --rerun")
    frame = frame.iloc[:len(plan)]  # a stage of fewer proposals uses the start of the runs
    n = len(frame)
    if frame[SEED].tolist() != plan[SEED].iloc[:n].tolist():
        raise CalibrationError(f"{runs_file}: its {n} runs are not this stage's first {n} "
                               "proposals; pass --rerun")
    return frame


def _recorded_config(config_file: Path) -> Any:
    """The config a stage's folder records; None if there is none.

    Raises:
        CalibrationError: the file is there but unreadable (it is left as it is).
    """
    try:
        return json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{config_file}: unreadable ({exc}); choose another --out, or "
                               "pass --rerun to replace the stage's files there") from None
