"""What a fit compares: priors, targets with sourced ranges, and the distance to them.

`Prior` is a uniform prior on the natural or the log scale, with the reason for its bounds.
`Summary` is one calibration target: a sourced interval (either bound may be open), its
confidence weight and whether it is compared on the log scale. `RangeDistance` is the ABC
distance: for each summary, how far the simulated value lies *outside* its interval, in units
of the interval's width (zero anywhere inside), averaged with the confidence weights.

Why this distance (docs/CALIBRATION.md says more): a sourced range says that every value in it
is equally consistent with the sources, so a simulation inside all ranges is a perfect match.
Scoring the distance to the midpoint instead would reward hitting a centre nobody reported and
shrink the posterior below what the sources support. In units of the interval's width, a
target known to a factor of two and one known to within 10 % count alike; on the log scale
(log(1 + x), so that a count of zero stays finite) a count twice too high is as far off as one
half too low. The distance is fixed (not adapted from the particles), so resuming a fit
changes nothing in it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import expit, logit

from sim.experiments.errors import ExperimentError

FAILED = "__failed__"  # key of the summaries of a simulation that raised; never accepted
ONE_SIDED_LOG_UNIT = math.log(2.0)  # an open-ended log target: a factor of two counts as one


class FitError(ExperimentError):
    """A fit that cannot run as asked (bad priors, targets, folder or simulator); one line."""


@dataclass(frozen=True, slots=True)
class Prior:
    """A uniform prior of one fitted parameter, on the natural or the log scale.

    Args:
        name: the parameter's dotted name, as the simulator receives it.
        low: lower bound (natural scale; > 0 on the log scale).
        high: upper bound (natural scale).
        scale: "linear" (uniform in the value) or "log" (uniform in its logarithm: for rates
            and sizes known only to an order of magnitude).
        justification: why these bounds (source, or the argument); required.
        counterfactual: the shipped counterfactual scenario whose effect the parameter sets
            ("" for none); such a parameter is kept whatever the screen finds, moved by
            the kernel or drawn from its prior (`sim.calibration.screening`).
        mechanism: the mechanism the parameter alone sizes, when no source gives its size
            ("" for none); kept whatever the screen finds, like a counterfactual's lever,
            so that the mechanism's size comes from the targets and not from a default.
        fit: why the fit must move the parameter whatever the screen finds ("" for none):
            the only parameter that separates a target from others that the fitted ones
            move together (the state side's restraint in one country, say), which the
            coverage order can leave out; moved by the kernel, on top of the budget.
        integer: the parameter takes whole values (a unit's strength): the simulator
            rounds the proposals and `fitted.toml` the median.
    """

    name: str
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"
    justification: str = ""
    counterfactual: str = ""
    mechanism: str = ""
    fit: str = ""
    integer: bool = False

    def __post_init__(self) -> None:
        where = f"prior '{self.name}'"
        if not isinstance(self.name, str) or not self.name.strip():
            raise FitError(f"prior {self.name!r}: name: expected a non-empty dotted name")
        for field in ("low", "high"):
            value = getattr(self, field)
            if not is_number(value) or not math.isfinite(value):
                raise FitError(f"{where}: {field}: expected a finite number, got {value!r}")
        if self.low >= self.high:
            raise FitError(f"{where}: low ({self.low}) must be below high ({self.high})")
        if self.scale not in ("linear", "log"):
            raise FitError(f"{where}: scale: expected 'linear' or 'log', got {self.scale!r}")
        if self.scale == "log" and self.low <= 0:
            raise FitError(f"{where}: low: a log-scale prior needs low > 0, got {self.low}")
        if not isinstance(self.justification, str) or not self.justification.strip():
            raise FitError(f"{where}: justification: say why these bounds (source or argument)")
        for lever, expected in (("counterfactual", "a scenario's name"),
                                ("mechanism", "the name of the mechanism the parameter sizes"),
                                ("fit", "why the fit must move the parameter")):
            value = getattr(self, lever)
            if not isinstance(value, str) or (value and not value.strip()):
                raise FitError(f"{where}: {lever}: expected {expected} (or none), got {value!r}")

    @property
    def key(self) -> str:
        """The name pyabc sees: `logit(name)`, the coordinate it samples and perturbs."""
        return f"logit({self.name})"

    @property
    def sampled_bounds(self) -> tuple[float, float]:
        """The bounds of the uniform prior: the natural ones, or their logs for "log"."""
        if self.scale == "log":
            return math.log(self.low), math.log(self.high)
        return float(self.low), float(self.high)

    def natural(self, z: Any) -> Any:
        """Pyabc's coordinate (logit of the position in the range) on the natural scale.

        pyabc samples z = logit(u), u the position of the value (of its log, on the log
        scale) between the bounds; a uniform prior on u is the standard logistic on z.
        """
        low, high = self.sampled_bounds
        value = low + (high - low) * expit(z)
        return np.exp(value) if self.scale == "log" else value

    def coordinate(self, value: Any) -> Any:
        """The inverse of `natural`: a natural value's logit coordinate."""
        low, high = self.sampled_bounds
        scaled = np.log(value) if self.scale == "log" else np.asarray(value, dtype=float)
        return logit((scaled - low) / (high - low))

    def describe(self) -> dict[str, Any]:
        """The prior as a JSON-able mapping (`integer` only when set, as fits before it)."""
        out = asdict(self)
        if not self.integer:
            del out["integer"]  # so that a fit made before integer priors still resumes
        return out


@dataclass(frozen=True, slots=True)
class Summary:
    """One calibration target: a sourced interval for one of the simulator's summaries.

    Args:
        name: the summary's name, a key of what the simulator returns.
        low: lower bound of the sourced range, or None if open.
        high: upper bound, or None if open (at least one bound is required).
        value: the sourced central value, if any; only an open-ended target uses it, as the
            unit of its distance (|value - bound|).
        weight: confidence weight (> 0), e.g. from the target's H/M/L confidence.
        log: compare on the log scale, log(1 + x) (counts and sizes), rather than linearly
            (shares and ratios); log targets cannot be negative.
    """

    name: str
    low: float | None = None
    high: float | None = None
    value: float | None = None
    weight: float = 1.0
    log: bool = False

    def __post_init__(self) -> None:
        where = f"summary '{self.name}'"
        if not isinstance(self.name, str) or not self.name.strip():
            raise FitError(f"summary {self.name!r}: name: expected a non-empty name")
        for field in ("low", "high", "value"):
            value = getattr(self, field)
            if value is not None and (not is_number(value) or not math.isfinite(value)):
                raise FitError(f"{where}: {field}: expected a finite number or none, "
                               f"got {value!r}")
            if value is not None and self.log and value < 0:
                raise FitError(f"{where}: {field}: a log-scale target cannot be negative, "
                               f"got {value}")
        if self.low is None and self.high is None:
            raise FitError(f"{where}: give low and/or high (a value alone has no width to "
                           "measure a distance in)")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise FitError(f"{where}: low ({self.low}) must be below high ({self.high})")
        if self.value is not None and not ((self.low is None or self.value >= self.low)
                                           and (self.high is None or self.value <= self.high)):
            raise FitError(f"{where}: value ({self.value}) lies outside its range "
                           f"{self.low}..{self.high}")
        if not is_number(self.weight) or not math.isfinite(self.weight) or self.weight <= 0:
            raise FitError(f"{where}: weight: expected a number > 0, got {self.weight!r}")
        if not isinstance(self.log, bool):
            raise FitError(f"{where}: log: expected true or false, got {self.log!r}")
        if self.width <= 0:
            raise FitError(f"{where}: an open-ended linear target with bound 0 has no scale; "
                           "give a value or the other bound")

    def scaled(self, x: Any) -> Any:
        """A value on the comparison scale: log(1 + x) for log targets, else x."""
        if not self.log:
            return x
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log1p(np.where(np.asarray(x, dtype=float) < 0, np.nan, x))

    @property
    def width(self) -> float:
        """The unit of this target's distance, on the comparison scale.

        The interval's width; for an open-ended target |value - bound| if a value is given,
        else a factor of two on the log scale and |bound| on the linear scale.
        """
        if self.low is not None and self.high is not None:
            return float(self.scaled(self.high) - self.scaled(self.low))
        bound = self.low if self.low is not None else self.high
        if self.value is not None and self.value != bound:
            return float(abs(self.scaled(self.value) - self.scaled(bound)))
        return ONE_SIDED_LOG_UNIT if self.log else abs(float(bound))

    def distance(self, x: float) -> float:
        """How far `x` lies outside the range, in widths (0 inside; nan if x is not finite)."""
        return float(RangeDistance([self]).gaps({self.name: x})[0])

    def describe(self) -> dict[str, Any]:
        """The target as a JSON-able mapping (with its width on the comparison scale)."""
        return {**asdict(self), "width": self.width}


class RangeDistance:
    """The weighted mean, over summaries, of how far a simulation lies outside each range.

    Called by pyabc as `distance(x, x_0, t, par)`; `x_0` (the observed data) is not used:
    the ranges are the data. A simulation that failed, lacks a summary or gives a value that
    is not finite (or negative on a log scale) gets the distance nan, which no epsilon
    accepts.

    Args:
        summaries: the targets; their names must be unique.
    """

    def __init__(self, summaries: Sequence[Summary]) -> None:
        names = [s.name for s in summaries]
        if not names:
            raise FitError("no summaries to fit: give at least one target")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise FitError(f"summary names must be unique: {', '.join(duplicates)} repeated")
        self.summaries = tuple(summaries)
        self.names = names
        self._log = np.array([s.log for s in summaries])
        self._low = np.array([-np.inf if s.low is None else s.scaled(s.low) for s in summaries],
                             dtype=float)
        self._high = np.array([np.inf if s.high is None else s.scaled(s.high)
                               for s in summaries], dtype=float)
        self._width = np.array([s.width for s in summaries], dtype=float)
        weights = np.array([s.weight for s in summaries], dtype=float)
        self._weights = weights / weights.sum()

    def gaps(self, x: Mapping[str, Any]) -> np.ndarray:
        """Each summary's distance outside its range, in widths (nan where x is unusable)."""
        raw = np.array([_as_float(x.get(name)) for name in self.names], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(self._log, np.log1p(np.where(raw < 0, np.nan, raw)), raw)
            gap = np.maximum(0.0, np.maximum(self._low - y, y - self._high))
        gap[~np.isfinite(raw)] = np.nan
        return gap / self._width

    def __call__(self, x: Mapping[str, Any], x_0: Any = None, t: int | None = None,
                 par: Any = None) -> float:
        """The distance of a simulation's summaries `x` from the ranges (nan if it failed)."""
        if FAILED in x:
            return math.nan
        return float(np.dot(self._weights, self.gaps(x)))

    def describe(self) -> dict[str, Any]:
        """The distance's definition as a JSON-able mapping."""
        return {"name": "RangeDistance",
                "definition": "sum_i w_i * max(0, low_i - y_i, y_i - high_i) / width_i, "
                              "y = log(1 + x) on log targets, w normalised to 1",
                "summaries": [s.describe() for s in self.summaries]}


def is_number(value: Any) -> bool:
    """True for an int or float (numpy's too), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool)


def _as_float(value: Any) -> float:
    """A summary value as a float; nan for a missing or non-numeric one."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
