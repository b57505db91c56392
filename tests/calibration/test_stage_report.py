"""The second stage's record: what the report reads of a stage posterior and its chain."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration.posterior import read_posterior
from sim.calibration.stage import stage_posterior
from sim.calibration.stage_report import (
    moved_outside_stage,
    staged_parameters,
    targets_fitted_before,
    write_stage,
)

from .toy_stage import PRIOR_R, TARGETS, stage, target


def test_the_report_knows_a_stage_posterior_and_its_copies_by_their_content(
        posterior, tmp_path):
    out = tmp_path / "calibration" / "stage"
    plan, runs, accepted, epsilon = stage(posterior, out, 60, 10)
    table = stage_posterior(posterior, runs, accepted, [PRIOR_R], plan)
    write_stage(out, posterior, runs, accepted, epsilon, [PRIOR_R], TARGETS[:1], TARGETS,
                table, {}, "toy")
    own = read_posterior(out / "posterior.csv")
    assert staged_parameters(own.path, own.sha256) == ["r"]
    adopted = tmp_path / "calibration" / "posterior.csv"  # copied up beside stage/
    adopted.write_bytes(own.path.read_bytes())
    assert staged_parameters(adopted, read_posterior(adopted).sha256) == ["r"]
    changed = pd.read_csv(adopted)
    changed.loc[0, "weight"] = 2.0  # another posterior: not the stage's
    changed.to_csv(adopted, index=False)
    assert staged_parameters(adopted, read_posterior(adopted).sha256) == []
    assert staged_parameters(tmp_path / "elsewhere.csv", own.sha256) == []


def test_a_stage_on_a_stage_posterior_names_both_stages_parameters(posterior, tmp_path):
    out = tmp_path / "stage"
    plan, runs, accepted, epsilon = stage(posterior, out, 60, 10)
    table = stage_posterior(posterior, runs, accepted, [PRIOR_R], plan)
    write_stage(out, posterior, runs, accepted, epsilon, [PRIOR_R], TARGETS[:1], TARGETS,
                table, {"earlier_stage_parameters": ["q"]}, "toy")
    own = read_posterior(out / "posterior.csv")
    assert staged_parameters(own.path, own.sha256) == ["q", "r"]


def test_targets_outside_the_stage_whose_kept_median_moved_half_a_width_are_named():
    share, deaths = target("share", 0.0, 10.0), target("deaths", 100.0, 150.0, unit="deaths")
    runs = pd.DataFrame({"y": [50.0] * 4, "share": [0.0, 4.0, 6.0, 10.0],
                         "deaths": [80.0, 100.0, 200.0, 150.0]})
    kept = np.array([False, False, True, True])  # medians: share 5 -> 8, deaths 125 -> 175
    moved = moved_outside_stage([TARGETS[0], share, deaths], TARGETS[:1], runs, kept)
    widths = (math.log1p(175) - math.log1p(125)) / (math.log1p(150) - math.log1p(100))
    assert moved == [{"target": "deaths", "median_proposed": 125.0, "median_accepted": 175.0,
                      "widths": pytest.approx(widths, abs=1e-5)}]  # share: 0.3 widths, not
    assert widths > 0.5
    kept = np.array([False, False, False, True])  # share 5 -> 10: half a width exactly
    assert [m["target"] for m in moved_outside_stage([share], [], runs, kept)] == ["share"]
    assert moved_outside_stage([share], [share], runs, kept) == []  # a stage target: not
    at_most_zero = target("share", None, 0.0)  # a linear bound of 0: the fit cannot compare
    assert moved_outside_stage([at_most_zero], [], runs, kept) == []


def write_record(folder, posterior_sha, input_sha, parameters, earlier=(), targets=()):
    """A stage record with only what the lookups of staged parameters and targets read."""
    folder.mkdir(parents=True)
    (folder / "stage.json").write_text(json.dumps(
        {"posterior_sha256": posterior_sha, "first_stage_posterior": input_sha,
         "stage_parameters": {name: {} for name in parameters},
         "earlier_stage_parameters": None if earlier is None else list(earlier),
         "stage_targets": list(targets)}),
        encoding="utf-8")


def test_the_targets_fitted_before_a_stage_follow_the_fit_and_the_chain(tmp_path):
    root = tmp_path / "calibration"
    write_record(root / "stage_coups", "B", "A", ["coup_rate"], targets=["coups", "level"])
    write_record(root / "stage", "C", "B", ["dialogue"], targets=["rise", "level"])
    write_record(root / "other", "Z", "Y", ["x"], targets=["unrelated"])  # not in the chain
    fit_record = {"summaries": [{"name": "coups"}, {"name": "rise"}, {"name": "jnim"}]}
    (root / "fit.json").write_text(json.dumps({**fit_record, "posterior_sha256": "A"}),
                                   encoding="utf-8")
    fit, coups, stage = (str((root / f).resolve()) for f in
                         ("fit.json", "stage_coups/stage.json", "stage/stage.json"))
    expected = {"coups": [fit, coups], "rise": [fit, stage], "jnim": [fit],
                "level": [coups, stage]}
    for posterior in (root / "posterior.csv", root / "stage" / "posterior.csv"):
        assert targets_fitted_before(posterior, "C") == expected  # beside or in the parent
    assert targets_fitted_before(root / "stage_coups" / "first_stage_posterior.csv", "A") == {
        "coups": [fit], "rise": [fit], "jnim": [fit]}  # the fit's own posterior: the fit only
    # a fit whose posterior is another content is not the one behind the chain
    (root / "fit.json").write_text(json.dumps({**fit_record, "posterior_sha256": "Q"}),
                                   encoding="utf-8")
    assert targets_fitted_before(root / "posterior.csv", "C") == {
        "coups": [coups], "level": [coups, stage], "rise": [stage]}
    # a record from before the field: taken by its folder, and said so
    (root / "fit.json").write_text(json.dumps(fit_record), encoding="utf-8")
    assert targets_fitted_before(root / "posterior.csv", "C")["jnim"] == [f"{fit} (by folder)"]
    (root / "fit.json").write_text("{not json", encoding="utf-8")
    assert targets_fitted_before(root / "posterior.csv", "C") == {
        "coups": [coups], "level": [coups, stage], "rise": [stage]}
    elsewhere = tmp_path / "elsewhere"
    write_record(elsewhere / "copy" / "stage", "C", "B", ["dialogue"], targets=["rise"])
    assert targets_fitted_before(elsewhere / "copy" / "posterior.csv", "C") == {
        "rise": [str((elsewhere / "copy" / "stage" / "stage.json").resolve())]}


def test_a_chain_of_stages_in_sibling_folders_is_followed_by_content(tmp_path):
    root = tmp_path / "calibration"
    write_record(root / "stage_coups", "B", "A", ["coup_rate", "coup_success"])
    write_record(root / "stage", "C", "B", ["dialogue"])  # its earlier ones not recorded
    write_record(root / "stage_attacks", "D", "C", ["median_killed"], earlier=["dialogue"])
    assert staged_parameters(root / "posterior.csv", "D") == [
        "coup_rate", "coup_success", "dialogue", "median_killed"]
    assert staged_parameters(root / "stage" / "posterior.csv", "C") == [
        "coup_rate", "coup_success", "dialogue"]
    assert staged_parameters(root / "stage" / "first_stage_posterior.csv", "B") == [
        "coup_rate", "coup_success"]  # the copy of the step's input: the steps before it
    assert staged_parameters(root / "stage_coups" / "first_stage_posterior.csv", "A") == []
    assert staged_parameters(root / "posterior.csv", "E") == []


def test_without_the_earlier_stage_its_recorded_parameters_are_used_and_loops_end(tmp_path):
    write_record(tmp_path / "alone" / "stage", "C", "B", ["dialogue"], earlier=["coup_rate"])
    assert staged_parameters(tmp_path / "alone" / "posterior.csv", "C") == [
        "coup_rate", "dialogue"]
    assert staged_parameters(tmp_path / "alone" / "stage" / "first_stage_posterior.csv",
                             "B") == ["coup_rate"]
    write_record(tmp_path / "loop" / "a", "X", "Y", ["p"])
    write_record(tmp_path / "loop" / "b", "Y", "X", ["q"])
    assert staged_parameters(tmp_path / "loop" / "posterior.csv", "X") == ["q", "p"]
    write_record(tmp_path / "odd" / "a", "X", None, ["p"], earlier=None)  # null: none
    (tmp_path / "odd" / "b").mkdir()
    (tmp_path / "odd" / "b" / "stage.json").write_text(json.dumps(  # no shas at all
        {"stage_parameters": {"q": {}}, "earlier_stage_parameters": "coup_rate"}),
        encoding="utf-8")
    assert staged_parameters(tmp_path / "odd" / "posterior.csv", "X") == ["p"]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "stage.json").write_text("{not json", encoding="utf-8")
    assert staged_parameters(tmp_path / "broken" / "posterior.csv", "X") == []
