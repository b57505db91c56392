"""A finished ABC-SMC fit: its weighted posterior draws, its generations and its record.

`read_posterior` and `read_generations` read them from pyabc's database; `generation_line`
and `SimulationBar` show a fit's progress, one line or a tqdm bar per finished generation.

`FitResult.write(folder)` writes `posterior.csv` (one column per parameter, dotted names, on
the natural scale, then `weight`, summing to 1), `generations.csv` (epsilon, simulations,
acceptance rate, effective sample size and wall time of each generation) and `fit.json` (the
command, seed, priors with their justifications, targets, settings, why the fit stopped, the
totals, and the versions and git commit that produced it). Each file is written under a
temporary name and renamed, so an earlier file is never left half-written.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.files import atomic_write_text
from sim.progress import ProgressBar

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sim.calibration.distances import Prior

POSTERIOR_FILE = "posterior.csv"
GENERATIONS_FILE = "generations.csv"
FIT_FILE = "fit.json"
DRAWN_PREFIX = "drawn:"  # a drawn parameter's value among a particle's stored summaries
STOP_REASONS = {
    "max_generations": "the maximum number of generations is reached",
    "min_epsilon": "epsilon reached its minimum (0: every kept simulation is inside every "
                   "range)",
    "min_acceptance_rate": "the acceptance rate fell below its minimum",
    "max_total_simulations": "the simulation budget is spent",
    "max_minutes": "the time budget is spent",
}


@dataclass
class FitResult:
    """A fit's posterior (last generation) and history, as `sim.calibration.fitting.fit` left it.

    Attributes:
        posterior: one column per parameter (natural scale) and `weight` (sums to 1).
        generations: generation, epsilon, simulations, accepted, acceptance_rate,
            effective_sample_size (Kish), wall_seconds; every generation in the database.
        stop_reason: a key of `STOP_REASONS`.
        discarded_simulations: this session's simulations kept in no generation (the trial
            draws, and a generation stopped by the acceptance rate or the budget).
        metadata: what `fit.json` records besides the totals.
        stop_detail: why the rule held, in words (e.g. the next generation's predicted cost).
    """

    posterior: pd.DataFrame
    generations: pd.DataFrame
    stop_reason: str
    discarded_simulations: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    stop_detail: str = ""

    @property
    def total_simulations(self) -> int:
        """Simulations of all finished generations (this session's and earlier ones)."""
        return int(self.generations["simulations"].sum())

    @property
    def total_generations(self) -> int:
        """Finished generations in the database."""
        return len(self.generations)

    @property
    def total_wall_seconds(self) -> float:
        """Wall time of all finished generations (pyabc's, without pauses between sessions)."""
        return float(self.generations["wall_seconds"].sum())

    @property
    def stop_description(self) -> str:
        """Why the fit stopped, in words."""
        return STOP_REASONS.get(self.stop_reason, self.stop_reason)

    def intervals(self, level: float = 0.9) -> pd.DataFrame:
        """Each parameter's weighted median and central `level` interval (natural scale)."""
        weights = self.posterior["weight"].to_numpy()
        tail = (1 - level) / 2
        rows = [{"parameter": name,
                 **dict(zip(("low", "median", "high"), weighted_quantile(
                     self.posterior[name].to_numpy(), weights, [tail, 0.5, 1 - tail]),
                     strict=True))}
                for name in self.posterior.columns if name != "weight"]
        return pd.DataFrame(rows, columns=["parameter", "low", "median", "high"])

    def record(self) -> dict[str, Any]:
        """The contents of `fit.json`."""
        return {**self.metadata, "stop_reason": self.stop_reason,
                "stopped_because": self.stop_description, "stop_detail": self.stop_detail,
                "totals": {"simulations": self.total_simulations,
                           "generations": self.total_generations,
                           "wall_seconds": round(self.total_wall_seconds, 3),
                           "discarded_simulations_this_session": self.discarded_simulations,
                           "final_effective_sample_size": round(float(
                               self.generations["effective_sample_size"].iloc[-1]), 2)}}

    def write(self, folder: Path | str) -> list[Path]:
        """Write posterior.csv, generations.csv and fit.json into `folder`; their paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        posterior = self.posterior.to_csv(index=False, float_format="%.17g")
        # the posterior's content, by which a later stage knows this fit as the one behind it
        sha256 = hashlib.sha256(posterior.encode("utf-8")).hexdigest()
        texts = {POSTERIOR_FILE: posterior,
                 GENERATIONS_FILE: self.generations.to_csv(index=False),
                 FIT_FILE: json.dumps({**self.record(), "posterior_sha256": sha256}, indent=1,
                                      default=str) + "\n"}
        return [atomic_write_text(folder / name, text) for name, text in texts.items()]


def read_posterior(history: Any, priors: Sequence[Prior], drawn: Sequence[Prior] = ()
                   ) -> pd.DataFrame:
    """From pyabc's History: the last generation on the natural scale, weights summing to 1.

    A `drawn` parameter's value is its particle's summary `DRAWN_PREFIX` + name.
    """
    particles = history.get_population(t=history.max_t).particles
    frame = pd.DataFrame({p.name: p.natural(np.array([float(q.parameter[p.key])
                                                      for q in particles]))
                          for p in priors})
    for p in drawn:
        frame[p.name] = [float(q.sum_stat[DRAWN_PREFIX + p.name]) for q in particles]
    weights = np.array([q.weight for q in particles], dtype=float)
    frame["weight"] = weights / weights.sum()
    return frame


def read_generations(history: Any, only: int | None = None) -> pd.DataFrame:
    """From pyabc's History: one row per finished generation (or only generation `only`)."""
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0] if only is None else pops[pops.t == only]
    rows = []
    for row in pops.itertuples():
        _, weights = history.get_distribution(m=0, t=int(row.t))
        rows.append({"generation": int(row.t), "epsilon": float(row.epsilon),
                     "simulations": int(row.samples), "accepted": int(row.particles),
                     "acceptance_rate": row.particles / row.samples,
                     "effective_sample_size": effective_sample_size(weights),
                     "wall_seconds": float(row.wall_time or 0.0)})
    return pd.DataFrame(rows, columns=["generation", "epsilon", "simulations", "accepted",
                                       "acceptance_rate", "effective_sample_size",
                                       "wall_seconds"])


def generation_line(row: Mapping[str, Any]) -> str:
    """One line about a finished generation (a `fit` progress row), for logs."""
    return (f"generation {row['generation']}: epsilon {row['epsilon']:.4g}, accepted "
            f"{row['accepted']}/{row['simulations']} ({row['acceptance_rate']:.1%}), ESS "
            f"{row['effective_sample_size']:.0f}, {row['wall_seconds']:.1f} s; "
            f"{row['total_simulations']} simulations so far")


class SimulationBar(ProgressBar):
    """A tqdm bar over the simulation budget, moved by `fit`'s progress rows (per generation).

    Args:
        budget: the fit's `max_total_simulations`.
        desc: the bar's label.
        disable: no bar (as `--quiet`).
    """

    def __init__(self, budget: int, desc: str = "calibrate", disable: bool = False) -> None:
        super().__init__(desc, unit="sim", total=budget, disable=disable)
        self.budget = budget

    def __call__(self, row: Mapping[str, Any]) -> None:
        """Show a finished generation: simulations so far, epsilon, acceptance, ESS."""
        self.update(min(row["total_simulations"], self.budget),
                    postfix=f"gen {row['generation']} eps {row['epsilon']:.3g} "
                            f"acc {row['acceptance_rate']:.0%} "
                            f"ESS {row['effective_sample_size']:.0f}")


def effective_sample_size(weights: Any) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size else 0.0


def weighted_quantile(values: Any, weights: Any, quantiles: Any) -> np.ndarray:
    """Quantiles of weighted draws (linear between the midpoints of the sorted weights).

    Draws of weight 0 play no part.
    """
    x, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    x, w = x[w > 0], w[w > 0]
    order = np.argsort(x)
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - w / 2) / w.sum()
    return np.interp(quantiles, cdf, x)


def run_provenance(pyabc_version: str, git: dict[str, Any] | None = None) -> dict[str, Any]:
    """Package versions and the git commit of the `sim` source.

    The commit is `checkout_commit()` read now, unless `git` gives it (as read when an
    earlier step started).
    """
    try:
        version = importlib_metadata.version("sahel-sim")
    except importlib_metadata.PackageNotFoundError:
        from sim import __version__ as version
    return {"versions": {"sahel-sim": version, "pyabc": pyabc_version,
                         "python": platform.python_version(), "numpy": np.__version__},
            "git": checkout_commit() if git is None else git}


def checkout_commit() -> dict[str, Any]:
    """The `sim` source's checkout: its commit and whether tracked files had changes.

    Both are None outside a checkout.
    """
    source = Path(__file__).resolve().parents[2]
    commit = _git(source, "rev-parse", "HEAD")
    status = _git(source, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
