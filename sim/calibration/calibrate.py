"""`sahel-sim calibrate`: the model as a simulator of the targets, priors, the screen and the fit.

The pieces: `load_priors` reads `calibration/priors.toml`; `summaries_for` turns the sourced
targets into the fitter's ranges (`sim.calibration.distances.Summary`); `ModelSimulator` runs
the scenario with a particle's parameters and returns every target's statistic;
`sim.calibration.screening` drops the parameters that move no target; `calibrate` runs the
screen (unless its result is already in the folder) and then the ABC-SMC fit.
"""

from __future__ import annotations

import inspect
import json
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.errors import CalibrationError
from sim.calibration.screening import TRAJECTORIES
from sim.calibration.targets import CALIBRATION_DIR, Target, target_signature
from sim.files import atomic_to_csv, atomic_write_text
from sim.scenario import Scenario
from sim.scenario.tunable import tunable_parameters

DEFAULT_PRIORS = CALIBRATION_DIR / "priors.toml"
PRIOR_KEYS = ("name", "low", "high", "scale", "justification", "counterfactual", "mechanism",
              "fit")
LOG_UNITS = ("deaths",)  # counts spanning orders of magnitude: compared as log(1 + x)
MIN_INTEGER_SPAN = 100  # an integer parameter's prior is this wide (high - low) to be fitted
EVENT_UNIT = "events"  # integer counts: a range [k, k] means the integers k-1/2..k+1/2


def load_priors(path: str | Path, scenario: Scenario) -> list[Any]:
    """The priors of `path`, checked against the scenario's tunable parameters.

    Raises:
        CalibrationError: one line naming the file, the prior and the field.
    """
    from sim.calibration.distances import FitError, Prior

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such priors file") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("priors")
    if not isinstance(entries, list) or not entries:
        raise CalibrationError(f"{path}: priors: expected a list of [[priors]] tables")
    known = tunable_parameters(scenario.model_dump(mode="json"))
    priors, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: priors[{i}]"
        if not isinstance(entry, dict):
            raise CalibrationError(f"{where}: expected a table")
        unknown = sorted(set(entry) - set(PRIOR_KEYS))
        if unknown:
            raise CalibrationError(f"{where}: {unknown[0]}: unknown key; allowed: "
                                   f"{', '.join(PRIOR_KEYS)}")
        name = entry.get("name")
        if name not in known:
            raise CalibrationError(f"{where}: name: {name!r} is not a tunable parameter of "
                                   f"'{scenario.name}'; see `sahel-sim parameters FILE`")
        if name in seen:
            raise CalibrationError(f"{where} ({name}): name: given twice")
        seen.add(name)
        bounds = known[name]
        low, high = entry.get("low"), entry.get("high")
        for field, value in (("low", low), ("high", high)):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise CalibrationError(f"{where} ({name}): {field}: expected a number, "
                                       f"got {value!r}")
            if not bounds["low"] <= value <= bounds["high"]:
                raise CalibrationError(f"{where} ({name}): {field}: {value} is outside the "
                                       f"parameter's range {bounds['low']} to {bounds['high']}")
        if bounds.get("integer") and high - low < MIN_INTEGER_SPAN:
            raise CalibrationError(f"{where} ({name}): name: an integer parameter can be "
                                   f"fitted only over a prior at least {MIN_INTEGER_SPAN} "
                                   "wide (the fit proposes real numbers, rounded); fix it in "
                                   "the scenario instead")
        try:
            priors.append(Prior(name, float(low), float(high), entry.get("scale", "linear"),
                                entry.get("justification", ""),
                                entry.get("counterfactual", ""),
                                entry.get("mechanism", ""), entry.get("fit", ""),
                                bool(bounds.get("integer"))))
        except FitError as exc:
            raise CalibrationError(f"{where} ({name}): {exc}") from None
    return priors


def summaries_for(targets: Sequence[Target]) -> list[Any]:
    """The fitter's ranges: counts of deaths on the log scale, weights from confidence.

    An integer count with equal bounds ([k, k], e.g. no successful coup) is the range
    k - 1/2 to k + 1/2: the same set of integers, with a width the distance can use.
    """
    from sim.calibration.distances import Summary

    out = []
    for t in targets:
        low, high, value = t.low, t.high, t.value
        if low is not None and low == high:
            if t.unit != EVENT_UNIT:
                raise CalibrationError(f"target {t.name}: low and high are both {low}; a "
                                       f"range of {t.unit} needs low < high (only counts of "
                                       "events may be exact)")
            low, high = max(low - 0.5, 0.0), high + 0.5
            value = None
        out.append(Summary(t.name, low, high, value, t.weight, t.unit in LOG_UNITS))
    return out


def comparable_summaries(targets: Sequence[Target]) -> dict[str, Any]:
    """`summaries_for` each target the fit's distance can compare, by name; the others left out.

    Left out: a count of deaths with equal bounds, a linear one-sided bound of 0 without a value.
    """
    from sim.calibration.distances import FitError

    out = {}
    for t in targets:
        try:
            out[t.name] = summaries_for([t])[0]
        except (CalibrationError, FitError):
            continue
    return out


@dataclass(frozen=True)
class ModelSimulator:
    """`simulate(params, seed)` for the fitter: the scenario with `params` set.

    With `seeds` = 1 one run with `seed`; with k > 1, k runs whose seeds are spawned from
    `seed` (`particle_seeds`) and each statistic's median over them (NaN only if it is NaN
    in every run): what the report judges, and less noisy (by about k in variance for a
    mean, somewhat less for a median). A run that raises gets a note naming it and its seed
    (the particle's seed does not reproduce it). Picklable (a scenario's JSON dump and the
    targets), so pyabc's workers can call it.
    """

    scenario: dict[str, Any]
    targets: tuple[Target, ...]
    seeds: int = 1

    def __call__(self, params: Mapping[str, float], seed: int) -> dict[str, float]:
        """Every target's statistic with these parameters (NaN where undefined)."""
        from sim.calibration.simulate import run_statistics
        from sim.scenario.tunable import apply_overrides, tunable_parameters, whole_integers

        whole = whole_integers(params, tunable_parameters(self.scenario))
        data = apply_overrides(dict(self.scenario), whole, origin="calibration")
        seeds = particle_seeds(seed, self.seeds)
        runs = []
        for i, run_seed in enumerate(seeds, start=1):
            try:
                runs.append(run_statistics(data, run_seed, self.targets))
            except Exception as exc:
                if len(seeds) > 1:
                    exc.add_note(f"in run {i} of {len(seeds)} of this particle, seed {run_seed}")
                raise
        if len(runs) == 1:
            return runs[0]
        return {name: median_defined([run[name] for run in runs]) for name in runs[0]}


def particle_seeds(seed: int, k: int) -> list[int]:
    """The seeds of a particle's k runs: `seed` itself for one, else k spawned from it."""
    if k < 1:
        raise CalibrationError(f"--seeds-per-particle: at least 1, got {k}")
    if k == 1:
        return [int(seed)]
    state = np.random.SeedSequence(int(seed)).generate_state(k, dtype=np.uint32)
    return [int(s) for s in state]


def median_defined(values: Any, axis: int | None = None) -> Any:
    """The median of the values that are not NaN (NaN if none is); along `axis` if given.

    A particle's runs (`ModelSimulator`) and a stage proposal's (`proposal_statistics`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN in every run: NaN, as meant
        median = np.nanmedian(np.asarray(values, dtype=float), axis=axis)
    return float(median) if axis is None else median


def fit_priors(priors: Sequence[Any], screening: Any | None) -> tuple[list[Any], list[Any]]:
    """The priors the screen kept: those the kernel moves and those drawn from their priors.

    Without a screen every prior is moved by the kernel; so are the levers when the screen
    leaves the kernel nothing else (no target has a strongest mover).
    """
    if screening is None:
        return list(priors), []
    kept = set(screening.loc[screening["kept"], "parameter"])
    drawn = set(screening.loc[screening["kept"] & screening["drawn"], "parameter"])
    if not kept - drawn:
        drawn = set()
    return ([p for p in priors if p.name in kept - drawn],
            [p for p in priors if p.name in drawn])


IDENTITY_FILE = "calibration.json"
_IDENTITY_LABELS = {"model_code": "model code (the sim package's digest: the model has changed)",
                    "behaviour_hash": "scenario (a value changed, not only a note)"}
_ABSENT = object()  # a key one identity has and the other lacks
SCREEN_FILE = "screening.csv"
SCREEN_INDICES_FILE = "screening_indices.csv"
FITTED_FILE = "fitted.toml"


@dataclass
class CalibrationRun:
    """What `run_calibration` did: the screen's decision, the fit and the files it wrote."""

    screening: Any
    screened_now: bool
    fit: Any
    files: list[Path]


def run_calibration(scenario_path: str | Path, out_dir: str | Path, *,
                    targets_path: str | Path | None = None,
                    priors_path: str | Path | None = None, trajectories: int = TRAJECTORIES,
                    rescreen: bool = False, screen_workers: int = 1, seeds_per_particle: int = 1,
                    log: Callable[[str], None] = print, **fit_settings: Any) -> CalibrationRun:
    """Screen (unless `out_dir` holds this screen already), then fit; write the results.

    Each particle of the fit is `seeds_per_particle` runs, compared by their medians
    (`ModelSimulator`); the screen always runs one seed per point.

    `fit_settings` go to `sim.calibration.fitting.fit` (population, max_generations,
    max_total_simulations, max_minutes, min_acceptance_rate, workers, scheduler, seed, progress,
    command).
    Everything is checked before the first run. A folder holding another calibration (other
    scenario, targets, priors or screen settings: `calibration.json`) is refused.
    """
    from sim.calibration.fit_result import checkout_commit
    from sim.calibration.fitting import check_settings, fit, import_pyabc
    from sim.calibration.screening import screen
    from sim.calibration.targets import DEFAULT_TARGETS, load_targets, targets_within
    from sim.scenario import load_scenario

    started_on = checkout_commit()  # before the screen's minutes
    scenario = load_scenario(scenario_path)
    targets = targets_within(load_targets(targets_path or DEFAULT_TARGETS), scenario.start,
                             scenario.end)
    priors = load_priors(priors_path or DEFAULT_PRIORS, scenario)
    summaries = summaries_for(targets)
    particle_seeds(0, seeds_per_particle)  # checked before anything runs
    if trajectories < 2:
        raise CalibrationError(f"--trajectories: the screen needs at least 2, got {trajectories}")
    checked = inspect.signature(check_settings).parameters
    check_settings(**{k: fit_settings.get(k, v.default) for k, v in
                      inspect.signature(fit).parameters.items() if k in checked})
    import_pyabc()
    if isinstance(fit_settings.get("scheduler"), str):
        from sim.experiments.executors import parse_scheduler

        parse_scheduler(fit_settings["scheduler"])
    out = Path(out_dir)
    identity = calibration_identity(scenario, targets, priors, trajectories,
                                    fit_settings.get("seed", 0), seeds_per_particle)
    same = check_identity(out, identity)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    decision = None if rescreen or not same else read_screening(out, priors, trajectories)
    screened_now = decision is None
    if decision is None:
        log(f"screen: Morris, {trajectories} trajectories of {len(priors)} parameters "
            f"({trajectories * (len(priors) + 1)} runs)")
        decision, indices = screen(scenario, priors, targets, summaries, trajectories,
                                   fit_settings.get("seed", 0), screen_workers, log=log)
        files += [atomic_to_csv(decision, out / SCREEN_FILE, index=False),
                  atomic_to_csv(indices, out / SCREEN_INDICES_FILE, index=False)]
        atomic_write_text(out / IDENTITY_FILE, json.dumps(identity, indent=1))
    else:
        files.append(atomic_to_csv(decision, out / SCREEN_FILE, index=False))
        log(f"screen: using {out / SCREEN_INDICES_FILE}, decided again with the priors' "
            "counterfactuals, mechanisms and fit keys (--rescreen to run it again)")
    kept, drawn = fit_priors(priors, decision)
    if not kept:
        raise CalibrationError(f"{out / SCREEN_FILE}: the screen kept no parameter: no "
                               "candidate moves any target")
    short = lambda group: ", ".join(p.name.split(".", 1)[1] for p in group)  # noqa: E731
    log(f"fit: {len(kept)} parameters ({short(kept)}) to {len(summaries)} targets"
        + (f"; {len(drawn)} drawn from their priors in each simulation ({short(drawn)})"
           if drawn else ""))
    simulator = ModelSimulator(scenario.model_dump(mode="json"), tuple(targets),
                               seeds_per_particle)
    result = fit(simulator, kept, summaries, out, drawn=drawn, git=started_on, **fit_settings)
    files.append(write_fitted(out / FITTED_FILE, result.posterior, [*kept, *drawn],
                              scenario.name))
    return CalibrationRun(decision, screened_now, result, files)


def calibration_identity(scenario: Scenario, targets: Sequence[Target], priors: Sequence[Any],
                         trajectories: int, seed: int, seeds_per_particle: int = 1
                         ) -> dict[str, Any]:
    """What makes a calibration folder this calibration: scenario, targets, priors, screen.

    The model's code (`sim.code_digest`) is in it: a fit is never resumed, nor a screen
    reused, by other code. Seeds per particle are recorded when more than one (older
    folders have one).
    """
    from sim.code_digest import code_digest

    identity = {"scenario": scenario.name, "behaviour_hash": scenario.behaviour_hash(),
                "model_code": code_digest(),
                "targets": target_signature(targets),
                "priors": [[p.name, p.low, p.high, p.scale, p.counterfactual] for p in priors],
                "trajectories": trajectories, "seed": seed}
    if seeds_per_particle != 1:
        identity["seeds_per_particle"] = seeds_per_particle
    return identity


def check_identity(out: Path, identity: dict[str, Any]) -> bool:
    """True if `out` holds this calibration; False if nothing; refuse another calibration's."""
    recorded = out / IDENTITY_FILE
    if recorded.exists():
        old = json.loads(recorded.read_text(encoding="utf-8"))
        if old == json.loads(json.dumps(identity)):
            return True
        now = json.loads(json.dumps(identity))
        changed = next(k for k in {**now, **old}
                       if old.get(k, _ABSENT) != now.get(k, _ABSENT))
    elif (out / "abc.db").exists():
        changed = "scenario"  # a fit whose identity was never recorded
    else:
        return False
    if (out / "abc.db").exists():
        what = _IDENTITY_LABELS.get(changed, changed)
        raise CalibrationError(f"{out}: holds a calibration with another {what}; resume it "
                               "with its own settings or choose another --out")
    return False


def read_screening(out: Path, priors: Sequence[Any], trajectories: int) -> Any | None:
    """The stored screen's decision, taken again with the priors' levers as they are now.

    None if `out` holds no screen of exactly these parameters. The decision comes from the
    stored effects, so a `mechanism`, `counterfactual` or `fit` added or removed since counts.
    """
    import pandas as pd

    from sim.calibration.screening import decide_for

    path = out / SCREEN_INDICES_FILE
    if not path.exists():
        return None
    indices = pd.read_csv(path)
    if set(indices.get("parameter", [])) != {p.name for p in priors}:
        return None
    return decide_for(indices, priors, trajectories)


def write_fitted(path: Path, posterior: Any, priors: Sequence[Any], scenario: str,
                 by: str = "`sahel-sim calibrate` (see fit.json)") -> Path:
    """The posterior's weighted medians as TOML dotted keys (`factions.jnim.restraint = 0.5`)."""
    from sim.calibration.fit_result import weighted_quantile

    weights = posterior["weight"].to_numpy(float)
    lines = [f"# Weighted posterior medians of the parameters fitted or drawn for '{scenario}'",
             f"# by {by}. scripts/apply_fitted.py writes them into",
             "# the scenario as its defaults; a test checks that the baseline's values match.",
             ""]
    for p in priors:
        median = float(weighted_quantile(posterior[p.name].to_numpy(float), weights, [0.5])[0])
        lines.append(f"{p.name} = {round(median)}" if p.integer else f"{p.name} = {median:.6g}")
    return atomic_write_text(path, "\n".join(lines) + "\n")
