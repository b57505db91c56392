"""ABC-SMC fitting of a simulator's parameters to sourced ranges, with pyabc 0.13.

`fit(simulate, priors, summaries, out_dir)` runs pyabc's ABC-SMC: generation 0 draws
`population` particles from the priors; each later generation proposes from the last one
(multivariate normal kernel, pyabc's `MultivariateNormalTransition`), simulates, and keeps
particles whose `RangeDistance` is within epsilon, the `epsilon_quantile` of the last
generation's weighted distances. It stops at the first of: `max_generations`, epsilon at
`min_epsilon` (0: every kept simulation lies inside every range), an acceptance rate below
`min_acceptance_rate`, `max_total_simulations`, or `max_minutes` (no generation is started
that is expected to end past it); `FitResult.stop_reason` says which. Both
caps count the whole database, so the same call again after an interruption finishes the same
fit. docs/CALIBRATION.md explains the choices and what resuming does.

Parameters given as `drawn` are not moved by the kernel: each simulation draws them from
their priors, and each is stored with its particle (as a summary the distance ignores), so
the posterior holds the joint draws, their weights those of the kernel-moved parameters.

`simulate(params, seed)` gets the parameters on their natural scale (dotted name -> value)
and a seed drawn from pyabc's random stream, and returns summary name -> value. An exception
rejects that particle (logged as a warning with the exception's notes, which for
`ModelSimulator` name the failing run and its own seed); a simulator that fails on all of a
few trial draws from the priors stops the fit before it starts, with its first error.

The pyabc database is `out_dir/abc.db`; if it exists, `fit` resumes its run (it never deletes
it). At the end `posterior.csv`, `generations.csv` and `fit.json` are written into `out_dir`.
pyabc is the optional extra `calibrate`.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.distances import (
    FAILED,
    FitError,
    Prior,
    RangeDistance,
    Summary,
    is_number,
)
from sim.calibration.fit_result import (
    DRAWN_PREFIX,
    FitResult,
    read_generations,
    read_posterior,
    run_provenance,
)
from sim.calibration.generations import run_generations
from sim.experiments.errors import ExperimentError

__all__ = ["FitError", "FitResult", "Prior", "RangeDistance", "Summary", "fit",
           "import_pyabc"]

DB_NAME = "abc.db"
TRIAL_DRAWS = 5  # prior draws tried before the fit; all failing stops it with the first error
META_KEY = "sahel_sim_fit"  # the fit's identity in pyabc's run options
SimulateFunction = Callable[[dict[str, float], int], Mapping[str, float]]
logger = logging.getLogger(__name__)


def import_pyabc() -> Any:
    """The `pyabc` package with its INFO logging silenced, or a one-line FitError."""
    try:
        import pyabc
    except ImportError:
        raise FitError("calibration needs pyabc: pip install 'sahel-sim[calibrate]' (or bash "
                       "scripts/setup.sh calibrate)") from None
    logging.getLogger("ABC").setLevel(logging.WARNING)
    return pyabc


class _Particle:
    """pyabc's model: one particle's parameters -> the simulator's summaries (or FAILED).

    The `drawn` priors' values are drawn here from the priors, after the seed, and returned
    among the summaries (`DRAWN_PREFIX` + name; the distance reads only the targets'), so
    pyabc stores each with the particle it produced. Module level, so that it pickles for
    Dask workers.
    """

    def __init__(self, simulate: SimulateFunction, priors: Sequence[Prior],
                 names: Sequence[str], drawn: Sequence[Prior] = ()) -> None:
        self.simulate, self.priors, self.names = simulate, tuple(priors), tuple(names)
        self.drawn = tuple(drawn)
        self.__name__ = "simulate"

    def __call__(self, par: Mapping[str, float]) -> dict[str, float]:
        params = {p.name: float(p.natural(par[p.key])) for p in self.priors}
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))  # pyabc's own stream
        drawn = {p.name: float(p.natural(np.random.logistic())) for p in self.drawn}
        params |= drawn
        try:
            out = self.simulate(params, seed)
            return ({name: float(out[name]) for name in self.names}
                    | {DRAWN_PREFIX + name: value for name, value in drawn.items()})
        except Exception as exc:
            notes = "".join(f"; {note}" for note in getattr(exc, "__notes__", ()))
            logger.warning("simulate failed (seed %d, %s): %s: %s%s", seed, params,
                           type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
                           notes)
            return {FAILED: 1.0}


def fit(simulate: SimulateFunction, priors: Sequence[Prior], summaries: Sequence[Summary],
        out_dir: Path | str, *, drawn: Sequence[Prior] = (), population: int = 300,
        max_generations: int = 15,
        max_total_simulations: int = 12_000, max_minutes: float | None = None,
        min_acceptance_rate: float = 0.02, min_epsilon: float = 0.0, epsilon_quantile: float = 0.5,
        transition_scaling: float = 1.5, workers: int | None = None,
        scheduler: str | Any | None = None, seed: int = 0,
        progress: Callable[[dict[str, Any]], None] | None = None,
        command: str | None = None, git: dict[str, Any] | None = None) -> FitResult:
    """Fit the priors' parameters to the summaries' ranges by ABC-SMC; resume if possible.

    Args:
        simulate: `simulate(params, seed) -> {summary name: value}`; may raise.
        priors: one per fitted parameter (unique names).
        drawn: parameters not moved by the kernel: each simulation draws them from these
            priors, and the posterior holds the values drawn with its particles (a weighted
            sample of their joint posterior with the fitted ones, since the proposal's
            density of a drawn value is its prior's and cancels from the weight).
        summaries: the targets (unique names).
        out_dir: folder of `abc.db` and the result files (created if missing).
        population: particles per generation.
        max_generations: cap on the generations in the database (this call's and earlier).
        max_total_simulations: cap on the simulations in the database; with local workers
            a generation that would pass it is stopped and discarded.
        max_minutes: time budget of the generations in the database (their wall time, this
            call's and earlier; not the trial draws): no generation is started that is
            expected to end past it (None: no time budget).
        min_acceptance_rate: stop when a generation accepts fewer (a generation is stopped
            after `population / min_acceptance_rate` simulations).
        min_epsilon: stop once a generation's epsilon is at or below this.
        epsilon_quantile: each epsilon is this quantile of the last weighted distances.
        transition_scaling: factor on the proposal kernel's covariance (Silverman's rule).
        workers: local processes (default: all cores); 1 runs in this process, reproducibly.
        scheduler: a Dask scheduler address or `distributed.Client`; overrides `workers`.
        seed: seed of pyabc's random stream (generation g uses SeedSequence([seed, g])).
        progress: called after each generation with its row of `FitResult.generations`
            plus `total_simulations`.
        command: the command line to record (default: this process's arguments).
        git: the checkout's commit to record, as `run_provenance` gives it (default: read
            when this call starts; a caller that runs first, such as the screen, passes its
            own).

    Raises:
        FitError: bad settings, priors or targets; a folder holding another fit or in use;
            a simulator failing on every trial draw; no generation finished.
    """
    settings = check_settings(population, max_generations, max_total_simulations,
                               min_acceptance_rate, min_epsilon, epsilon_quantile,
                               transition_scaling, workers, seed, max_minutes)
    priors, drawn = _check_priors(priors, drawn)
    distance = RangeDistance(summaries)
    pyabc = import_pyabc()
    out = Path(out_dir)
    session_start = datetime.now()
    provenance = run_provenance(pyabc.__version__, git)  # the code this call starts with
    lock = _lock(out)
    try:
        discarded = _trial_draws(simulate, (*priors, *drawn), distance, seed)
        sampler, client = _sampler(pyabc, workers, scheduler)
        try:
            abc, resumed_from = _open_run(pyabc, out / DB_NAME, simulate, priors, drawn,
                                          distance, settings, sampler)
            stop, detail, lost = run_generations(abc, settings, seed, progress)
        finally:
            if client is not None and isinstance(scheduler, str):
                client.close()
        discarded += lost
        history = abc.history
        if history.n_populations == 0:
            raise FitError(f"no generation finished ({stop.replace('_', ' ')} reached after "
                           f"{discarded} simulations); see the warnings for failed runs")
        settings |= {"workers": workers, "scheduler": None if scheduler is None else
                     str(scheduler), "sampler": type(sampler).__name__}
        metadata = {
            "command": command if command is not None else shlex.join(sys.argv),
            "seed": seed, "priors": [p.describe() for p in priors],
            "drawn": [p.describe() for p in drawn],
            "summaries": [s.describe() for s in distance.summaries],
            "distance": {k: v for k, v in distance.describe().items() if k != "summaries"},
            "settings": settings, "database": DB_NAME, "run_id": history.id,
            "resumed_from_generation": resumed_from,
            "started": _iso(history.get_abc().start_time), "session_started":
            _iso(session_start), "finished": _iso(datetime.now()),
            **provenance}
        result = FitResult(read_posterior(history, priors, drawn),
                           read_generations(history), stop,
                           discarded, metadata, stop_detail=detail)
        result.write(out)
        return result
    finally:
        lock.close()


def check_settings(population: int, max_generations: int, max_total_simulations: int,
                    min_acceptance_rate: float, min_epsilon: float, epsilon_quantile: float,
                    transition_scaling: float, workers: int | None, seed: int,
                    max_minutes: float | None = None) -> dict[str, Any]:
    """The fit's settings as a mapping, or a FitError naming the first bad one."""
    whole = lambda v, low: is_number(v) and isinstance(v, int | np.integer) and v >= low  # noqa: E731
    real = lambda v: is_number(v) and math.isfinite(v)  # noqa: E731
    checks = [
        ("population", population, whole(population, 10), "a whole number >= 10"),
        ("max_generations", max_generations, whole(max_generations, 1), "a whole number >= 1"),
        ("max_total_simulations", max_total_simulations,
         whole(max_total_simulations, population if whole(population, 10) else 10),
         f"a whole number >= population ({population})"),
        ("min_acceptance_rate", min_acceptance_rate,
         real(min_acceptance_rate) and 0 <= min_acceptance_rate < 1,
         "a number from 0 to below 1"),
        ("min_epsilon", min_epsilon, real(min_epsilon) and min_epsilon >= 0, "a number >= 0"),
        ("epsilon_quantile", epsilon_quantile,
         real(epsilon_quantile) and 0 < epsilon_quantile < 1, "a number between 0 and 1"),
        ("transition_scaling", transition_scaling,
         real(transition_scaling) and transition_scaling > 0, "a finite number > 0"),
        ("workers", workers, workers is None or whole(workers, 1), "a whole number >= 1"),
        ("seed", seed, whole(seed, 0), "a whole number >= 0"),
        ("max_minutes", max_minutes, max_minutes is None or (real(max_minutes)
                                                             and max_minutes > 0),
         "a number of minutes > 0 (or none)")]
    for name, value, ok, allowed in checks:
        if not ok:
            raise FitError(f"{name}: expected {allowed}, got {value!r}")
    return {"population": int(population), "max_generations": int(max_generations),
            "max_total_simulations": int(max_total_simulations),
            "max_minutes": None if max_minutes is None else float(max_minutes),
            "min_acceptance_rate": float(min_acceptance_rate), "min_epsilon": float(min_epsilon),
            "epsilon_quantile": float(epsilon_quantile),
            "transition": "MultivariateNormalTransition (Silverman's rule)",
            "transition_scaling": float(transition_scaling)}


def _check_priors(priors: Sequence[Prior], drawn: Sequence[Prior]
                  ) -> tuple[tuple[Prior, ...], tuple[Prior, ...]]:
    if not priors:
        raise FitError("no priors: give at least one parameter to fit")
    names = [p.name for p in (*priors, *drawn)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FitError(f"prior names must be unique (fitted and drawn): {', '.join(repeated)} "
                       "repeated")
    return tuple(priors), tuple(drawn)


def _lock(out: Path) -> Any:
    """Create `out` and lock it against a second writer (the experiments' folder lock)."""
    from sim.experiments.result_store import ResultStore

    if out.exists() and not out.is_dir():
        raise FitError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FitError(f"{out}: cannot create the folder: {exc.strerror or exc}") from None
    store = ResultStore(out)
    try:
        store._take_lock()
    except ExperimentError as exc:
        raise FitError(str(exc)) from None
    return store


def _trial_draws(simulate: SimulateFunction, priors: Sequence[Prior],
                 distance: RangeDistance, seed: int) -> int:
    """Run the simulator on prior draws until one succeeds; the number of runs it took."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2**32]))
    first_error = ""
    for trial in range(1, TRIAL_DRAWS + 1):
        params = {p.name: float(p.natural(rng.logistic())) for p in priors}
        try:
            out = simulate(params, int(rng.integers(2**63 - 1)))
        except Exception as exc:
            first_error = first_error or f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        if not isinstance(out, Mapping):
            raise FitError(f"simulate must return a mapping of summary names to numbers, "
                           f"got {type(out).__name__}")
        missing = [name for name in distance.names if name not in out]
        if missing:
            raise FitError(f"simulate returned no value for summary '{missing[0]}' (it "
                           f"returned: {', '.join(map(str, out)) or 'nothing'})")
        return trial
    raise FitError(f"simulate failed on all {TRIAL_DRAWS} trial parameter sets drawn from the "
                   f"priors; the first error: {first_error}")


def _sampler(pyabc: Any, workers: int | None, scheduler: str | Any | None) -> tuple[Any, Any]:
    """The pyabc sampler for these workers or this Dask scheduler, and the Dask client."""
    if scheduler is not None and scheduler != "":
        from sim.experiments.executors import connect_scheduler

        client = connect_scheduler(scheduler) if isinstance(scheduler, str) else scheduler
        return pyabc.sampler.DaskDistributedSampler(dask_client=client), client
    if workers is None:
        from sim.experiments.executors import default_workers

        workers = default_workers()
    if workers == 1:
        return pyabc.sampler.SingleCoreSampler(check_max_eval=True), None
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers,
                                                      check_max_eval=True), None


def _open_run(pyabc: Any, db_path: Path, simulate: SimulateFunction, priors: Sequence[Prior],
              drawn: Sequence[Prior], distance: RangeDistance, settings: Mapping[str, Any],
              sampler: Any) -> tuple[Any, int | None]:
    """The pyabc ABCSMC on a new run, or on the database's run, and the generation it is at."""
    unfitted = ("justification", "counterfactual", "mechanism", "fit")  # why: not the fit
    identity = {kind: [{k: v for k, v in p.describe().items() if k not in unfitted}
                       for p in group] for kind, group in (("priors", priors), ("drawn", drawn))}
    identity["summaries"] = [s.describe() for s in distance.summaries]
    db = f"sqlite:///{db_path.resolve()}"
    run_id, done = _existing_run(pyabc, db_path, db, identity) if db_path.exists() else (None, 0)
    # A fresh run's epsilon starts at infinity (generation 0 keeps every prior draw that did
    # not fail). On resume pyabc would restart a number there; "from_sample" instead takes
    # the quantile of the stored last generation's distances, the epsilon it would have used.
    eps = pyabc.QuantileEpsilon(initial_epsilon="from_sample" if done else math.inf,
                                alpha=settings["epsilon_quantile"])
    # Uniform priors, seen by pyabc on the logit of the position in their range (standard
    # logistic): proposals never fall outside the bounds, so no weight is biased there.
    prior = pyabc.Distribution(**{p.key: pyabc.RV("logistic", 0.0, 1.0) for p in priors})
    abc = pyabc.ABCSMC(_Particle(simulate, priors, distance.names, drawn), prior, distance,
                       population_size=settings["population"], eps=eps, sampler=sampler,
                       transitions=pyabc.MultivariateNormalTransition(
                           scaling=settings["transition_scaling"]))
    if run_id is None:
        observed = {s.name: np.array([np.nan if s.low is None else s.low,
                                      np.nan if s.high is None else s.high])
                    for s in distance.summaries}
        abc.new(db, observed, meta_info={META_KEY: json.dumps(identity)})
        return abc, None
    abc.load(db, run_id)
    return abc, done


def _existing_run(pyabc: Any, db_path: Path, db: str, identity: dict[str, Any]
                  ) -> tuple[int, int]:
    """The database's last run id and its finished generations; FitError if not this fit."""
    try:
        history = pyabc.History(db, create=False)
        runs = history.all_runs()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FitError(f"{db_path}: not a readable pyabc database ({reason}); use another "
                       "output folder") from None
    if not runs:
        raise FitError(f"{db_path}: holds no pyabc run; use another output folder")
    history.id = runs[-1].id
    try:
        stored = json.loads(ast.literal_eval(history.get_abc().json_parameters)[META_KEY])
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise FitError(f"{db_path}: a pyabc run not made by sahel-sim's fit; use another "
                       "output folder") from None
    for kind in ("priors", "drawn", "summaries"):
        old, new = stored.get(kind, []), identity[kind]
        if old != new:
            changed = next((f"'{n.get('name')}' differs" for o, n in
                            zip(old, new, strict=False) if o != n),
                           f"{len(old)} of them then, {len(new)} now")
            hint = ("; a lever that is no target's strongest mover is now drawn from its "
                    "prior, not moved by the kernel" if "drawn" not in stored else "")
            raise FitError(f"{db_path}: holds a fit with other {kind} ({changed}{hint}); "
                           "use another output folder")
    return history.id, history.n_populations


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")
