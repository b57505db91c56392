"""ABC-SMC generations run one at a time, and the stopping rules checked between them.

`run_generations` runs pyabc's generations (each seeded from the fit's seed and its number)
until `stop_reason` names a rule that holds: the generation cap, epsilon at its minimum, the
acceptance rate below its minimum, or a simulation or time budget the next generation is not
expected to fit in (its acceptance rate predicted by carrying the last fall in the rate one
generation further; its time at the last generation's pace). A generation that pyabc gives up
(too few accepted, or the budget spent) is discarded, and said so.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from sim.calibration.fit_result import read_generations


def run_generations(abc: Any, settings: Mapping[str, Any], seed: int,
                     progress: Callable[[dict[str, Any]], None] | None
                     ) -> tuple[str, str, int]:
    """Run generations until a stopping rule holds; the rule, why, and the simulations lost."""
    history, population = abc.history, settings["population"]
    min_rate, budget = settings["min_acceptance_rate"], settings["max_total_simulations"]
    t = history.n_populations
    stop = stop_reason(history, settings)
    if stop:
        return *stop, 0
    abc.initialize_components_before_run(
        minimum_epsilon=settings["min_epsilon"],
        max_nr_populations=settings["max_generations"] - t, min_acceptance_rate=min_rate,
        max_total_nr_simulations=budget, max_walltime=None, min_eps_diff=0.0)
    try:
        while True:
            remaining = budget - (history.total_nr_simulations or 0)
            by_rate = population / min_rate if min_rate > 0 else math.inf
            # pyabc stops a generation after population / min_acceptance_rate simulations:
            # set that so the budget also caps the generation that would pass it.
            abc.min_acceptance_rate = population / min(by_rate, remaining)
            state = int(np.random.SeedSequence([seed, t]).generate_state(1)[0])
            np.random.seed(state)
            random.seed(state)
            outcome = abc.run_generation(t=t)
            if not outcome["successful"]:
                lost = int(abc.sampler.nr_evaluations_)
                if remaining < by_rate:
                    return ("max_total_simulations", f"generation {t} did not finish within the "
                            f"{remaining:,} simulations left; its {lost:,} were discarded", lost)
                return ("min_acceptance_rate", f"generation {t} accepted too few in {lost:,} "
                        f"simulations (below {min_rate:.1%}); they were discarded", lost)
            if progress is not None:
                progress({**read_generations(history, t).to_dict("records")[0],
                          "total_simulations": int(history.total_nr_simulations)})
            stop = stop_reason(history, settings)
            if stop:
                return *stop, 0
            t += 1
    finally:
        history.done(end_time=datetime.now())
        abc.sampler.stop()


# The time rule's margin on a generation's forecast time. The acceptance rate can fall faster
# than the last fall carried on: the baseline's fit of session 50 started generation 5 expecting
# about 15 minutes (14.3% acceptance), and it took 22.2 (10.1%), 1.48 times the forecast, taking
# the fit past the 60 minutes. An assumption, from that one overrun.
TIME_MARGIN = 1.5


def stop_reason(history: Any, settings: Mapping[str, Any]) -> tuple[str, str] | None:
    """The stopping rule that holds after the database's last generation and why, or None.

    The budget stops the fit before a generation it does not expect to finish: one whose
    predicted cost, the population over its expected acceptance rate, is more than the
    simulations left. Acceptance falls as epsilon shrinks, so with two generations or more
    the expected rate is the last one's times its fall from the one before (the last rate
    over the previous one, at most 1): the last fall carried one generation further. From
    generation 0, which accepts nearly all, that fall is about the generation 1 rate itself:
    cautious on purpose. With one generation the expected rate is its own. Either way it is
    at most the epsilon quantile: a generation's epsilon is that quantile of the last one's
    distances, so even its unperturbed particles would pass at about that rate. The time
    budget (`max_minutes`, if set) stops it before a generation whose predicted simulations,
    at the last generation's seconds per simulation and times `TIME_MARGIN`, would end past
    the budget, counted as the generations' wall time so far.
    """
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    if pops.empty:
        return None
    last, t = pops.iloc[-1], int(pops.t.iloc[-1])  # a row of mixed columns may make t a float
    rates = (pops.particles / pops.samples).to_numpy(float)
    rate = rates[-1]
    remaining = settings["max_total_simulations"] - int(pops.samples.sum())
    if len(pops) >= settings["max_generations"]:
        return "max_generations", f"{len(pops)} generations"
    if last.epsilon <= settings["min_epsilon"]:
        return "min_epsilon", f"generation {t} has epsilon {last.epsilon:.3g}"
    if rate < settings["min_acceptance_rate"]:
        return "min_acceptance_rate", f"generation {t} accepted {rate:.1%}"
    expected, how = expected_acceptance(rates, settings["epsilon_quantile"])
    predicted = settings["population"] / expected if expected > 0 else math.inf
    if remaining < predicted:
        return "max_total_simulations", (
            f"generation {t + 1} was not started: at {how} it would need about "
            f"{math.ceil(predicted) if math.isfinite(predicted) else math.inf:,} simulations, "
            f"more than the {remaining:,} left")
    minutes = settings.get("max_minutes")
    if minutes is None:
        return None
    wall = pops.wall_time.astype(float).fillna(0.0).to_numpy()
    spent, pace = float(wall.sum()), seconds_per_simulation(wall, pops.samples.to_numpy(float))
    needed = predicted * pace
    if spent >= minutes * 60.0:
        return "max_minutes", (f"generation {t + 1} was not started: the generations so far "
                               f"took {spent / 60:.1f} min of {minutes:g}")
    if spent + TIME_MARGIN * needed > minutes * 60.0:
        return "max_minutes", (
            f"generation {t + 1} was not started: at {how} and {pace:.2f} s per simulation "
            f"it would take about {needed / 60:.1f} min ({TIME_MARGIN:g} times that with "
            f"the margin), more than the {minutes - spent / 60:.1f} min left of {minutes:g}")
    return None


def seconds_per_simulation(wall: np.ndarray, samples: np.ndarray) -> float:
    """The last generation's pace, or the median pace of the timed ones if it has no time."""
    timed = wall > 0
    if not timed.any():
        return 0.0
    paces = wall[timed] / np.maximum(samples[timed], 1.0)
    return float(paces[-1] if timed[-1] else np.median(paces))


def expected_acceptance(rates: np.ndarray, epsilon_quantile: float) -> tuple[float, str]:
    """The next generation's expected acceptance rate from the generations' rates, and how."""
    last = float(rates[-1])
    if len(rates) == 1:
        expected = min(last, epsilon_quantile)
        return expected, (f"an acceptance rate of {expected:.1%} (the last generation's, at "
                          "most the epsilon quantile)")
    previous = float(rates[-2])
    fall = min(1.0, last / previous) if previous > 0 else 1.0
    expected = min(last * fall, epsilon_quantile)
    change = (f" times its fall from {previous:.1%}" if last < previous
              else f", not below the {previous:.1%} before it")
    return expected, (f"an expected acceptance rate of {expected:.1%} (the last generation's "
                      f"{last:.1%}{change}, at most the epsilon quantile)")
