"""Parameters drawn from their priors in each simulation instead of moved by the fit's kernel:
the targets still select them (through the particles they were drawn with), the posterior
holds them, and a fit with other drawn parameters is not resumed.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.calibration.fit_result import FIT_FILE
from sim.calibration.fitting import DB_NAME, FitError, Prior, Summary, fit, import_pyabc

pytest.importorskip("pyabc")

FITTED = Prior("a", 1, 1000, "log", "toy")
DRAWN = Prior("x", 0, 1, "linear", "toy lever", counterfactual="toy_counterfactual")
SUMMARIES = [Summary("s_a", 20, 40, log=True), Summary("s_x", 0.6, 0.7)]


def simulate(params: dict[str, float], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {"s_a": params["a"] * math.exp(rng.normal(0, 0.05)),
            "s_x": params["x"] + rng.normal(0, 0.005)}


def test_a_drawn_parameter_is_selected_by_its_target_and_kept_with_its_particle(tmp_path):
    result = fit(simulate, [FITTED], SUMMARIES, tmp_path, drawn=[DRAWN], population=60,
                 max_generations=12, min_epsilon=0.0, workers=1, seed=3)
    assert result.stop_reason == "min_epsilon"  # every kept simulation inside both ranges
    post = result.posterior
    assert list(post.columns) == ["a", "x", "weight"]
    assert post["x"].between(0.58, 0.72).all()  # prior 0-1; the range 0.6-0.7 (+ noise)
    assert post["a"].between(18, 44).all()
    assert math.isclose(post["weight"].sum(), 1.0)
    # The kernel moves only a: pyabc's particles hold no coordinate of x.
    history = import_pyabc().History(f"sqlite:///{tmp_path / DB_NAME}", create=False)
    particles, _ = history.get_distribution(m=0, t=history.max_t)
    assert list(particles.columns) == ["logit(a)"]
    record = json.loads((tmp_path / FIT_FILE).read_text())
    assert [p["name"] for p in record["priors"]] == ["a"]
    assert [p["name"] for p in record["drawn"]] == ["x"]


def test_without_a_target_a_drawn_parameter_keeps_its_prior(tmp_path):
    only_a = [SUMMARIES[0]]
    result = fit(simulate, [FITTED], only_a, tmp_path, drawn=[DRAWN], population=200,
                 max_generations=3, workers=1, seed=4)
    x, w = result.posterior["x"].to_numpy(), result.posterior["weight"].to_numpy()
    mean, sd = np.average(x, weights=w), math.sqrt(np.average((x - 0.5) ** 2, weights=w))
    assert abs(mean - 0.5) < 0.08 and abs(sd - math.sqrt(1 / 12)) < 0.05  # uniform on 0-1


def test_a_fit_with_other_drawn_parameters_is_not_resumed(tmp_path):
    fit(simulate, [FITTED], SUMMARIES, tmp_path, drawn=[DRAWN], population=20,
        max_generations=1, workers=1)
    before = (tmp_path / DB_NAME).stat().st_size
    narrower = Prior("x", 0, 0.5, "linear", "toy lever")
    with pytest.raises(FitError, match=r"holds a fit with other drawn \('x' differs\)"):
        fit(simulate, [FITTED], SUMMARIES, tmp_path, drawn=[narrower], population=20,
            max_generations=1, workers=1)
    assert (tmp_path / DB_NAME).stat().st_size == before


def test_a_database_from_before_drawn_parameters_says_why_it_is_not_resumed(tmp_path):
    import ast
    import sqlite3

    from sim.calibration.fitting import META_KEY

    fit(simulate, [FITTED, DRAWN], SUMMARIES, tmp_path, population=20, max_generations=1,
        workers=1)
    with sqlite3.connect(tmp_path / DB_NAME) as db:  # the identity as such fits stored it
        (text,) = db.execute("SELECT json_parameters FROM abc_smc").fetchone()
        options = ast.literal_eval(text)
        identity = json.loads(options[META_KEY])
        del identity["drawn"]
        options[META_KEY] = json.dumps(identity)
        db.execute("UPDATE abc_smc SET json_parameters = ?", (str(options),))
    with pytest.raises(FitError, match=r"other priors \(2 of them then, 1 now; a lever that "
                                       "is no target's strongest mover is now drawn"):
        fit(simulate, [FITTED], SUMMARIES, tmp_path, drawn=[DRAWN], population=20,
            max_generations=1, workers=1)
