"""The calibration report: hit and overlap on known answers, the CSV's columns, the figures."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.calibration.comparisons import Comparison
from sim.calibration.fit_result import weighted_quantile
from sim.calibration.report import (
    REPORT_COLUMNS,
    evaluate,
    format_share,
    resampled_hits,
    write_report,
)
from sim.calibration.report_plots import schema_bounds
from sim.calibration.targets import Target

WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 12, 31)}


def target(name, low=None, high=None, confidence="M"):
    return Target(name=name, low=low, high=high, value=None, unit="deaths", period="2024",
                  place="Burkina Faso", definition="d", source=f"source of {name}",
                  source_date=dt.date(2024, 9, 30), confidence=confidence,
                  compare=Comparison(statistic="deaths", country="BFA", **WINDOW))


TARGETS = [
    target("inside", 40, 60),           # median 50 inside
    target("band_overlaps", 60, 70),    # median 50 below, 95% = 59.5... see values
    target("far_below", 200, 300),      # everything below
    target("one_sided_low", low=45),    # median 50 >= 45
    target("one_sided_high", high=10),  # median 50 > 10, band from 5.5 overlaps
    target("point", 0, 0, "H"),         # all zeros: hit
    target("not_measured", 1, 2),       # all NaN: not compared
]


@pytest.fixture
def simulated():
    runs = np.arange(1, 100, dtype=float)  # 1..99: quantiles 5.9, 50, 94.1
    return pd.DataFrame({
        "inside": runs, "band_overlaps": runs, "far_below": runs, "one_sided_low": runs,
        "one_sided_high": runs, "point": np.zeros(99), "not_measured": np.full(99, np.nan),
        "seed": np.arange(99), "draw": [None] * 99})


def test_hit_and_overlap_known_answers(simulated):
    table = evaluate(TARGETS, simulated).set_index("target")
    assert table.loc["inside", ["sim_q05", "sim_q50", "sim_q95"]].tolist() == pytest.approx(
        [5.9, 50.0, 94.1])
    expected = {"inside": (True, True), "band_overlaps": (False, True),
                "far_below": (False, False), "one_sided_low": (True, True),
                "one_sided_high": (False, True), "point": (True, True),
                "not_measured": (None, None)}
    assert {n: (r.hit, r.overlap) for n, r in table.iterrows()} == expected
    assert table.loc["not_measured", "runs"] == 0 and table.loc["inside", "runs"] == 99
    # runs 1..99 inside each range: 40-60, 60-70, none, >= 45, <= 10, all zeros
    assert table["in_range"].iloc[:6].tolist() == pytest.approx(
        [21 / 99, 11 / 99, 0.0, 55 / 99, 10 / 99, 1.0])
    assert math.isnan(table.loc["not_measured", "in_range"])
    assert math.isnan(table.loc["one_sided_low", "high"])


def test_a_band_touching_the_range_overlaps_and_one_just_short_does_not():
    frame = pd.DataFrame({"a": np.linspace(0, 10, 101), "b": np.linspace(0, 10, 101)})
    q95 = float(np.quantile(frame["a"], 0.95))  # 9.5
    table = evaluate([target("a", q95, 20), target("b", q95 + 1e-9, 20)], frame)
    assert table["overlap"].tolist() == [True, False]
    assert table["hit"].tolist() == [False, False]


@pytest.mark.parametrize(("share", "text"), [
    (0.0, "0%"), (1 / 1000, "<1%"), (1 / 200, "<1%"), (0.006, "1%"), (0.5, "50%"),
    (0.994, "99%"), (0.996, ">99%"), (399 / 400, ">99%"), (1.0, "100%"), (math.nan, "-")])
def test_a_share_of_runs_reads_none_or_all_only_when_it_is(share, text):
    assert format_share(share) == text


def test_a_target_without_a_column_is_an_error(simulated):
    with pytest.raises(ValueError, match=r"no column for target\(s\) missing"):
        evaluate([*TARGETS, target("missing", 1, 2)], simulated)


def test_write_report_files_csv_and_markdown(tmp_path, simulated):
    report = write_report(TARGETS, simulated, tmp_path / "out", title="Test report")
    names = [p.name for p in report.files]
    assert names == ["report.md", "report.csv", "targets.png"]
    assert (report.compared, report.hits, report.overlaps, report.runs) == (6, 3, 5, 99)
    assert report.hit_share == pytest.approx(0.5)
    log = np.log1p
    gaps = [0.0, (log(60) - log(50)) / (log(70) - log(60)),  # inside, band_overlaps
            (log(200) - log(50)) / (log(300) - log(200)), 0.0,  # far_below, one_sided_low
            (log(50) - log(10)) / math.log(2.0)]  # one_sided_high; point: deaths 0 to 0
    assert report.distance_targets == 5  # the fit cannot compare deaths with equal bounds
    assert report.distance == pytest.approx(np.mean(gaps))  # equal weights (all M)
    csv = pd.read_csv(tmp_path / "out" / "report.csv", keep_default_na=False)
    assert tuple(csv.columns) == REPORT_COLUMNS
    assert csv["hit"].tolist() == ["true", "false", "false", "true", "false", "true", ""]
    assert csv["overlap"].tolist() == ["true", "true", "false", "true", "true", "true", ""]
    assert csv.loc[3, "high"] == ""  # a one-sided target's missing bound is empty
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Test report\n")
    assert ("Of 6 targets compared, the simulated median lies inside the sourced range for "
            "**3 (50%)** and the 5-95% band overlaps the range for **5 (83%)**") in markdown
    assert (f"is **{report.distance:.3f}**, over 5 targets.") in markdown
    assert "Not compared (no run measured them" in markdown and "not_measured" in markdown
    assert "| point | 0 to 0 | deaths | 0 | 0 | 0 | yes | yes | 100% | 100% | H | source of " \
           "point (2024-09-30) |" in markdown
    # one_sided_low's median (sd about 3.6 over resamples) sometimes falls below 45
    assert report.hits_band == (2.0, 3.0)
    assert "the count is 2 to 3 (5-95% over 1,000 bootstrap resamples of the runs)" in markdown
    assert csv["in_range"].tolist()[:3] == ["0.2121", "0.1111", "0.0"]  # read as text here
    assert ("- far_below: median 50 is below the range (200 to 300 deaths; 0% of runs in it); "
            "the 5-95% band misses the range too.") in markdown
    assert ("- one_sided_high: median 50 is above the range (<= 10 deaths; 10% of runs in "
            "it).") in markdown
    png = (tmp_path / "out" / "targets.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert not list((tmp_path / "out").glob(".*partial*"))


def test_resampled_hits_known_answers(simulated):
    """A median that can fall either side of a bound; sure hits and misses; no runs."""
    edge = target("edge", low=50, high=1000)  # runs 1..99: the sample median is the bound
    simulated["edge"] = simulated["inside"]
    chances, counts = resampled_hits([*TARGETS, edge], simulated, resamples=4000, seed=1)
    # a resample's median (its 50th of 99 draws) is >= 50 when at most 49 draws are <= 49
    exact = stats.binom.cdf(49, 99, 49 / 99)
    assert chances[-1] == pytest.approx(exact, abs=0.03)
    assert chances[[2, 4, 5]].tolist() == [0.0, 0.0, 1.0]  # never or always inside
    # the resampled median's spread is about 0.5 * sqrt(99) = 5: 40-60 is two of them either
    # side, 60 two above, 45 one below
    assert 0.9 < chances[0] < 0.99 and 0 < chances[1] < 0.06 and 0.75 < chances[3] < 0.92
    assert math.isnan(chances[6])
    assert counts.min() >= 1 and counts.max() <= 5  # point always; band_overlaps rarely
    again, _ = resampled_hits([*TARGETS, edge], simulated, resamples=4000, seed=1)
    assert np.array_equal(chances, again, equal_nan=True)


def test_resampled_hits_use_only_the_measured_runs():
    """NaN and infinite runs are left out, as in `evaluate`; a resample without one misses."""
    values = np.array([np.nan, np.inf, 10.0, 10.0])
    chances, counts = resampled_hits([target("t", 5, 15)], pd.DataFrame({"t": values}),
                                     resamples=2000)
    # a resample misses only when it has neither of the two measured runs: (1/2)^4
    assert chances[0] == pytest.approx(1 - 0.5 ** 4, abs=0.02)
    assert set(counts.tolist()) == {0, 1} and counts.mean() == chances[0]


def test_the_median_distance_leaves_out_what_it_cannot_compare(tmp_path, simulated):
    from sim.calibration.report import median_distance

    zero_bound = Target(name="at_most_zero", low=None, high=0.0, value=None, unit="share",
                        period="2024", place="Mali", definition="d", source="s",
                        source_date=dt.date(2024, 9, 30), confidence="M",
                        compare=Comparison(statistic="deaths", country="BFA", **WINDOW))
    frame = simulated.assign(at_most_zero=np.ones(99))  # a linear bound of 0: no width
    table = evaluate([*TARGETS, zero_bound], frame)
    assert median_distance([TARGETS[0], zero_bound], table) == (0.0, 1)
    report = write_report([TARGETS[-1], zero_bound], frame, tmp_path / "out")
    assert (report.distance_targets, math.isnan(report.distance)) == (0, True)
    assert "distance of these medians" not in (tmp_path / "out" / "report.md").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("prior_bounds", [None, {"factions.jnim.restraint": (0.2, 0.8)}])
def test_posterior_figures_and_table(tmp_path, simulated, prior_bounds):
    rng = np.random.default_rng(1)
    posterior = pd.DataFrame({
        "parameters.combat.engage_probability": rng.uniform(0.1, 0.4, 200),
        "factions.jnim.restraint": rng.uniform(0.2, 0.8, 200),
        "parameters.violence.base_rate": rng.uniform(0.001, 0.004, 200),
        "weight": rng.uniform(0, 1, 200)})
    report = write_report(TARGETS, simulated, tmp_path, posterior=posterior,
                          prior_bounds=prior_bounds)
    names = [p.name for p in report.files]
    assert names == ["report.md", "report.csv", "targets.png", "posterior_marginals.png",
                     "posterior_pairs.png"]
    for name in names[3:]:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    weights = posterior["weight"] / posterior["weight"].sum()
    ess = 1 / (weights ** 2).sum()
    assert f"200 weighted draws, effective sample size {ess:.0f} (Kish)." in markdown
    mean = float((weights * posterior["factions.jnim.restraint"]).sum())
    assert f"| factions.jnim.restraint | {mean:.4g} |" in markdown


def test_schema_bounds_and_weighted_quantile():
    bounds = schema_bounds(["parameters.combat.engage_probability", "factions.jnim.restraint",
                            "not.a.parameter"])
    assert bounds["factions.jnim.restraint"] == (0.0, 1.0)
    low, high = bounds["parameters.combat.engage_probability"]
    assert 0 <= low < high <= 1
    assert "not.a.parameter" not in bounds
    values = np.array([3.0, 1.0, 2.0, 10.0])
    weights = np.array([0.25, 0.25, 0.25, 0.25])
    # Midpoints of equal weights sit at 1/8, 3/8, 5/8, 7/8: the median is halfway from 2 to 3.
    assert weighted_quantile(values, weights, [0.5])[0] == 2.5
    assert weighted_quantile(values, weights, [0.05, 0.125, 0.95]).tolist() == [1.0, 1.0, 10.0]
    assert weighted_quantile(values, np.array([0, 0, 0, 1.0]), [0.05])[0] == 10.0


def test_log_priors_get_a_log_axis_and_drawn_levers_are_marked(tmp_path, simulated):
    from sim.calibration.report_plots import marginals_figure

    rng = np.random.default_rng(2)
    rate, lever = "parameters.violence.base_rate", "factions.jnim.restraint"
    posterior = pd.DataFrame({rate: np.exp(rng.uniform(np.log(5e-4), np.log(8e-3), 300)),
                              lever: rng.uniform(0.2, 0.8, 300), "weight": 1.0})
    bounds = {rate: (5e-4, 8e-3), lever: (0.2, 0.8)}
    fig = marginals_figure(posterior, bounds, True, log_scale=[rate], drawn=[lever])
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert axes[f"{rate} (log axis)"].get_xscale() == "log"
    assert axes[f"{lever} [drawn]"].get_xscale() == "linear"
    # Log-uniform draws binned evenly in the logarithm: every bin holds about 1/30 of them.
    heights = [patch.get_height() for patch in axes[f"{rate} (log axis)"].patches]
    assert len(heights) == 30 and max(heights) < 2.2 / 30
    write_report(TARGETS, simulated, tmp_path, posterior=posterior, prior_bounds=bounds,
                 log_scale=[rate], drawn=[lever])
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| parameter | weighted mean | 5% | 95% | in the fit |" in markdown
    assert f"| {lever} |" in markdown and "| drawn from its prior |" in markdown
    assert markdown.count("| moved by the kernel |") == 1


def test_parameters_a_second_stage_fitted_are_marked(tmp_path, simulated):
    from sim.calibration.report_plots import marginals_figure

    rng = np.random.default_rng(3)
    names = ["parameters.violence.dialogue_restraint", "parameters.junta.coup_rate",
             "factions.jnim.restraint"]
    posterior = pd.DataFrame({n: rng.uniform(0.1, 0.7, 100) for n in names} | {"weight": 1.0})
    fig = marginals_figure(posterior, {}, False, drawn=[names[1], names[2]], staged=[names[0]])
    titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
    assert {f"{names[0]} [stage 2]", f"{names[1]} [drawn]", f"{names[2]} [drawn]"} <= titles
    write_report(TARGETS, simulated, tmp_path, posterior=posterior, drawn=[names[1]],
                 staged=[names[0]])
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"| {names[0]} |" in markdown and markdown.count("| fitted by the second stage |") == 1
    assert markdown.count("| drawn from its prior |") == 1
    assert markdown.count("| moved by the kernel |") == 1
    write_report(TARGETS, simulated, tmp_path, posterior=posterior, staged=[names[0]])
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")  # no fit record beside
    assert markdown.count("| from the first stage |") == 2
