"""Experiments: ensembles, paired counterfactual comparisons and parameter sweeps.

`ensemble`, `compare` and `sweep` (in `experiment`) are the public entry points; they return
the result classes of `results` and raise the errors of `errors`. Modules, bottom to top:
`errors`, `prepared` (scenarios ready to run), `executors` (in process, a local process pool or
Dask), `result_store` (run files, the resumable manifest), `runs` (the plan and its execution),
`outcomes`, `statistics`, `designs`, `results`, `reporting`, `plots` and `experiment`.
"""

from sim.experiments.designs import design_points
from sim.experiments.errors import ExperimentCancelled, ExperimentError
from sim.experiments.experiment import compare, ensemble, spawn_seeds, sweep
from sim.experiments.outcomes import HEADLINE_OUTCOMES, headline_outcomes
from sim.experiments.prepared import ScenarioLike
from sim.experiments.results import (
    ComparisonResult,
    EnsembleResult,
    ExperimentResult,
    SweepResult,
)
from sim.experiments.runs import ProgressCallback
from sim.experiments.statistics import QUANTILES, median_interval, paired_table

__all__ = [
    "HEADLINE_OUTCOMES",
    "QUANTILES",
    "ComparisonResult",
    "EnsembleResult",
    "ExperimentCancelled",
    "ExperimentError",
    "ExperimentResult",
    "ProgressCallback",
    "ScenarioLike",
    "SweepResult",
    "compare",
    "design_points",
    "ensemble",
    "headline_outcomes",
    "median_interval",
    "paired_table",
    "spawn_seeds",
    "sweep",
]
