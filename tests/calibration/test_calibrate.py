"""The calibration's glue: priors checked against the scenario, targets as the fitter's ranges."""

import pickle

import pytest

from sim.calibration.calibrate import (
    DEFAULT_PRIORS,
    ModelSimulator,
    load_priors,
    particle_seeds,
    summaries_for,
    write_fitted,
)
from sim.calibration.errors import CalibrationError
from sim.calibration.targets import DEFAULT_TARGETS, load_targets


def test_the_shipped_priors_load_and_each_has_a_justification(baseline):
    priors = load_priors(DEFAULT_PRIORS, baseline)
    assert len(priors) >= 20
    assert all(p.justification.strip() for p in priors)
    assert all(p.low > 0 for p in priors if p.scale == "log")
    shipped = {path.stem for path in (DEFAULT_PRIORS.parent.parent / "scenarios").glob("*.toml")}
    counterfactuals = {p.counterfactual for p in priors if p.counterfactual}
    assert counterfactuals and counterfactuals <= shipped
    sized = {p.name: p.mechanism for p in priors if p.mechanism}
    assert "ODD 7.8" in sized["parameters.violence.suspicion_multiplier"]
    assert "ODD 7.8" in sized["parameters.violence.reprisal_multiplier"]
    assert "ODD 7.3" in sized["parameters.decisions.post_coup_pull"]
    assert "ODD 7.19" in sized["parameters.decisions.reinforcement_rate"]
    assert "ODD 7.12" in sized["parameters.civilians.rival_support"]
    assert "ODD 7.12" in sized["parameters.civilians.strength_ceiling"]
    required = {p.name for p in priors if p.fit}
    assert required == {"factions.burkina_army.restraint", "factions.vdp.restraint",
                        "factions.mali_army.restraint", "units.jnim_burkina.share",
                        "parameters.complex_attacks.median_killed"}
    assert not any(p.integer for p in priors)


def test_a_units_strength_is_fitted_as_a_whole_number_over_a_wide_prior(baseline, tmp_path):
    path = tmp_path / "priors.toml"
    path.write_text('[[priors]]\nname = "units.jnim_burkina.strength"\nlow = 1100\n'
                    'high = 4400\njustification = "split not published"\n', encoding="utf-8")
    (prior,) = load_priors(path, baseline)
    assert prior.integer and (prior.low, prior.high) == (1100.0, 4400.0)


@pytest.mark.parametrize(("entry", "message"), [
    ('name = "parameters.combat.nope"\nlow = 0.1\nhigh = 0.2\njustification = "x"',
     "priors[0]: name: 'parameters.combat.nope' is not a tunable parameter"),
    ('name = "parameters.combat.evasion"\nlow = 0.5\nhigh = 1.5\njustification = "x"',
     "(parameters.combat.evasion): high: 1.5 is outside the parameter's range 0.0 to 1.0"),
    ('name = "parameters.combat.evasion"\nlow = 0.5\nhigh = 0.9',
     "priors[0] (parameters.combat.evasion): prior 'parameters.combat.evasion': justification"),
    ('name = "parameters.combat.evasion"\nlow = 0.5\nhigh = 0.9\njustification = "x"\nmean = 1',
     "priors[0]: mean: unknown key; allowed: name, low, high, scale, justification, "
     "counterfactual, mechanism, fit"),
    ('name = "parameters.combat.evasion"\nlow = 0.5\nhigh = 0.9\njustification = "x"\n'
     'mechanism = 1', "(parameters.combat.evasion): prior 'parameters.combat.evasion': "
     "mechanism: expected the name of the mechanism the parameter sizes (or none), got 1"),
    ('name = "parameters.combat.evasion"\nlow = 0.5\nhigh = 0.9\njustification = "x"\n'
     'counterfactual = 3', "(parameters.combat.evasion): prior 'parameters.combat.evasion': "
     "counterfactual: expected a scenario's name (or none), got 3"),
    ('name = "parameters.combat.evasion"\nlow = 0.5\nhigh = 0.9\njustification = "x"\n'
     'fit = true', "(parameters.combat.evasion): prior 'parameters.combat.evasion': "
     "fit: expected why the fit must move the parameter (or none), got True"),
    ('name = "units.jnim_burkina.strength"\nlow = 2000\nhigh = 2050\njustification = "x"',
     "(units.jnim_burkina.strength): name: an integer parameter can be fitted only over a "
     "prior at least 100 wide"),
    ('name = "parameters.combat.trapped_rounds"\nlow = 0\nhigh = 10\njustification = "x"',
     "(parameters.combat.trapped_rounds): name: an integer parameter can be fitted only"),
])
def test_a_bad_prior_is_one_line_naming_file_prior_and_field(baseline, tmp_path, entry, message):
    path = tmp_path / "priors.toml"
    path.write_text(f"[[priors]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(CalibrationError) as err:
        load_priors(path, baseline)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(path)) and message in text


def test_targets_become_ranges_counts_of_deaths_on_the_log_scale():
    targets = {t.name: t for t in load_targets(DEFAULT_TARGETS)}
    summaries = {s.name: s for s in summaries_for(list(targets.values()))}
    barsalogho = summaries["barsalogho_largest_jihadist_event_bfa"]
    assert barsalogho.log and (barsalogho.low, barsalogho.high) == (200, 600)
    assert not summaries["aes_territory_outside_state_control"].log
    no_coup = summaries["bfa_successful_coups"]  # [0, 0] events: the integers -1/2..1/2
    assert (no_coup.low, no_coup.high) == (0.0, 0.5)
    assert no_coup.distance(0) == 0.0 and no_coup.distance(1) > 0
    assert summaries["bfa_coup_attempts"].weight == targets["bfa_coup_attempts"].weight


def test_the_simulator_pickles_and_returns_every_target(baseline):
    targets = tuple(t for t in load_targets(DEFAULT_TARGETS)
                    if t.compare.window()[1] <= baseline.end
                    and t.compare.window()[0] >= baseline.start)
    simulator = pickle.loads(pickle.dumps(
        ModelSimulator(baseline.model_dump(mode="json"), targets)))
    out = simulator({"parameters.combat.engage_probability": 0.3}, 5)
    assert set(out) == {t.name for t in targets}
    # a unit's strength is proposed as a real number and run as the nearest whole one
    assert simulator({"units.jnim_burkina.strength": 2500.4}, 5) == \
        simulator({"units.jnim_burkina.strength": 2500}, 5)


def test_fitted_values_are_the_weighted_medians_as_toml(tmp_path):
    import tomllib

    import pandas as pd

    from sim.calibration.distances import Prior

    posterior = pd.DataFrame({"factions.jnim.restraint": [0.2, 0.4, 0.6],
                              "weight": [0.25, 0.5, 0.25]})  # symmetric: median 0.4
    path = write_fitted(tmp_path / "fitted.toml", posterior,
                        [Prior("factions.jnim.restraint", 0.1, 1.0, "linear", "test")], "b")
    assert tomllib.loads(path.read_text())["factions"]["jnim"]["restraint"] == 0.4
    posterior = pd.DataFrame({"units.u.strength": [2000.2, 2500.6, 2600.0], "weight": 1 / 3})
    path = write_fitted(tmp_path / "fitted.toml", posterior,
                        [Prior("units.u.strength", 1000, 4000, "linear", "test", integer=True)],
                        "b")
    assert tomllib.loads(path.read_text())["units"]["u"]["strength"] == 2501


def test_a_folder_holding_another_calibration_is_refused_and_left_alone(tmp_path):
    import json

    from sim.calibration.calibrate import IDENTITY_FILE, check_identity

    identity = {"scenario": "baseline", "behaviour_hash": "abc", "targets": [], "priors": [],
                "trajectories": 8, "seed": 0}
    assert check_identity(tmp_path, identity) is False  # nothing there yet
    (tmp_path / IDENTITY_FILE).write_text(json.dumps(identity), encoding="utf-8")
    assert check_identity(tmp_path, identity) is True
    other = dict(identity, behaviour_hash="def")
    assert check_identity(tmp_path, other) is False  # no fit yet: screen again
    (tmp_path / "abc.db").write_bytes(b"fit")
    with pytest.raises(CalibrationError, match="holds a calibration with another "
                                               "scenario \\(a value changed, not only a note\\)"):
        check_identity(tmp_path, other)
    assert (tmp_path / "abc.db").read_bytes() == b"fit"
    # a fit made by other model code is not resumed either
    (tmp_path / IDENTITY_FILE).write_text(json.dumps(dict(identity, model_code="a" * 64)),
                                          encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"another model code \(the sim package's "
                                               r"digest: the model has changed\)"):
        check_identity(tmp_path, dict(identity, model_code="b" * 64))


def test_a_particle_of_k_seeds_is_the_median_of_k_runs_on_seeds_spawned_from_its_own(
        monkeypatch):
    import math

    import sim.calibration.simulate as simulate

    calls = []

    def fake_run_statistics(data, seed, targets):
        calls.append(seed)
        return {"size": float(seed % 1000), "rare": 5.0 if len(calls) == 2 else math.nan,
                "never": math.nan}

    monkeypatch.setattr(simulate, "run_statistics", fake_run_statistics)
    one = ModelSimulator({}, ())({}, 42)
    assert calls == [42] and one["size"] == 42.0  # one seed: the particle's own, as before
    calls.clear()
    three = ModelSimulator({}, (), 3)({}, 42)
    assert calls == particle_seeds(42, 3) and len(set(calls)) == 3 and 42 not in calls
    assert three["size"] == sorted(s % 1000 for s in calls)[1]  # the middle one
    assert three["rare"] == 5.0  # the median of the runs where it is defined
    assert math.isnan(three["never"])
    assert particle_seeds(42, 3) == particle_seeds(42, 3) != particle_seeds(43, 3)


def test_a_failing_run_of_a_particle_names_itself_and_its_own_seed(monkeypatch):
    import sim.calibration.simulate as simulate

    seeds = particle_seeds(42, 3)

    def fails_on_the_second_seed(data, seed, targets):
        if seed == seeds[1]:
            raise RuntimeError("unstable")
        return {"size": 1.0}

    monkeypatch.setattr(simulate, "run_statistics", fails_on_the_second_seed)
    with pytest.raises(RuntimeError) as err:
        ModelSimulator({}, (), 3)({}, 42)
    assert err.value.args == ("unstable",)
    assert err.value.__notes__ == [f"in run 2 of 3 of this particle, seed {seeds[1]}"]
    with pytest.raises(RuntimeError) as err:  # one run: its seed is the particle's, no note
        ModelSimulator({}, ())({}, seeds[1])
    assert not hasattr(err.value, "__notes__")


def test_seeds_per_particle_below_one_is_refused():
    with pytest.raises(CalibrationError, match="--seeds-per-particle: at least 1, got 0"):
        particle_seeds(1, 0)


def test_a_fit_with_other_seeds_per_particle_is_not_resumed(tmp_path):
    import json

    from sim.calibration.calibrate import IDENTITY_FILE, check_identity

    identity = {"scenario": "baseline", "behaviour_hash": "abc", "targets": [], "priors": [],
                "trajectories": 8, "seed": 0}
    (tmp_path / IDENTITY_FILE).write_text(json.dumps(dict(identity, seeds_per_particle=3)),
                                          encoding="utf-8")
    (tmp_path / "abc.db").write_bytes(b"fit")
    with pytest.raises(CalibrationError, match="another seeds_per_particle"):
        check_identity(tmp_path, identity)
    assert (tmp_path / "abc.db").read_bytes() == b"fit"
    (tmp_path / IDENTITY_FILE).write_text(json.dumps(dict(identity, extra=None)),
                                          encoding="utf-8")
    with pytest.raises(CalibrationError, match="another extra"):  # null vs absent differ too
        check_identity(tmp_path, identity)


def test_one_seed_per_particle_leaves_the_identity_of_older_folders_as_it_was(baseline):
    from sim.calibration.calibrate import calibration_identity
    from sim.code_digest import code_digest

    targets = load_targets(DEFAULT_TARGETS)
    priors = load_priors(DEFAULT_PRIORS, baseline)
    one = calibration_identity(baseline, targets, priors, 8, 0)
    assert "seeds_per_particle" not in one
    assert one["model_code"] == code_digest()
    assert calibration_identity(baseline, targets, priors, 8, 0, 1) == one
    assert calibration_identity(baseline, targets, priors, 8, 0, 3) == dict(
        one, seeds_per_particle=3)


def test_a_stored_screen_is_decided_again_with_the_priors_levers_as_they_are_now(tmp_path):
    import pandas as pd

    from sim.calibration.calibrate import SCREEN_INDICES_FILE, read_screening
    from sim.calibration.distances import Prior
    from sim.calibration.screening import MAX_FITTED

    movers = [f"p{i}" for i in range(MAX_FITTED)]  # each the strongest mover of its target
    rows = [(f"target{i}", name, 2.0, 2.0, 0.1) for i, name in enumerate(movers)]
    indices = pd.DataFrame([*rows, ("target0", "suspicion", 0.5, 0.5, 0.1)],
                           columns=["outcome", "parameter", "mu", "mu_star", "sigma"])
    indices.to_csv(tmp_path / SCREEN_INDICES_FILE, index=False)
    plain = [*(Prior(name, 0, 1, "linear", "x") for name in movers),
             Prior("suspicion", 0, 5, "linear", "x")]
    marked = [*plain[:-1], Prior("suspicion", 0, 5, "linear", "x", mechanism="punishment")]
    before = read_screening(tmp_path, plain, 8).set_index("parameter")["kept"]
    after = read_screening(tmp_path, marked, 8).set_index("parameter")
    assert not before["suspicion"] and before.drop("suspicion").all()
    assert after["kept"].all()
    assert after.loc["suspicion", "reason"] == ("drawn from its prior in each simulation: "
                                                "sizes punishment (mover no. 2 of target0)")
    assert after.loc["suspicion", "drawn"]
    assert read_screening(tmp_path, plain[:2], 8) is None  # other parameters: screen again
    assert read_screening(tmp_path / "empty", plain, 8) is None


def test_the_screen_splits_the_kept_priors_into_moved_and_drawn():
    import pandas as pd

    from sim.calibration.calibrate import fit_priors
    from sim.calibration.distances import Prior

    priors = [Prior(name, 0, 1, "linear", "x") for name in ("mover", "lever", "dropped")]
    table = pd.DataFrame({"parameter": ["mover", "lever", "dropped"],
                          "kept": [True, True, False], "drawn": [False, True, False]})
    fitted, drawn = fit_priors(priors, table)
    assert ([p.name for p in fitted], [p.name for p in drawn]) == (["mover"], ["lever"])
    # Nothing left for the kernel: it moves the levers rather than draw every parameter.
    only_levers = table.assign(kept=[False, True, False])
    fitted, drawn = fit_priors(priors, only_levers)
    assert ([p.name for p in fitted], drawn) == (["lever"], [])
    assert fit_priors(priors, None) == (priors, [])


def test_the_commit_recorded_is_read_before_the_screen(tmp_path, monkeypatch):
    import functools

    import pandas as pd

    from sim.calibration import calibrate, fit_result, fitting, screening
    from sim.calibration.calibrate import run_calibration
    from sim.calibration.distances import Prior

    from ..conftest import ROOT

    pytest.importorskip("pyabc")
    screened = []
    monkeypatch.setattr(fit_result, "checkout_commit", lambda: {
        "commit": ("b" if screened else "a") * 40, "dirty": False})

    def screen(*args, **kwargs):  # the checkout "moves on" during the screen
        screened.append(True)
        return pd.DataFrame({"parameter": ["x"]}), pd.DataFrame({"outcome": ["y"]})

    monkeypatch.setattr(screening, "screen", screen)
    monkeypatch.setattr(calibrate, "fit_priors",
                        lambda priors, decision: ([Prior("g.x", 0, 1, "linear", "x")], []))
    recorded = {}

    @functools.wraps(fitting.fit)
    def fit(*args, **kwargs):
        recorded.update(kwargs)
        raise KeyboardInterrupt  # stop here: what was passed is what is checked

    monkeypatch.setattr(fitting, "fit", fit)
    with pytest.raises(KeyboardInterrupt):
        run_calibration(ROOT / "scenarios" / "baseline.toml", tmp_path, log=lambda line: None)
    assert screened and recorded["git"] == {"commit": "a" * 40, "dirty": False}


def test_a_fit_outlives_an_edited_note_but_not_an_edited_value(baseline):
    from sim.calibration.calibrate import calibration_identity

    targets = load_targets(DEFAULT_TARGETS)
    renoted = baseline.model_copy(deep=True)
    renoted.parameters.sources["violence.base_rate"] = "edited after the fit"
    assert (calibration_identity(renoted, targets, [], 8, 0)
            == calibration_identity(baseline, targets, [], 8, 0))
    changed = baseline.model_copy(deep=True)
    changed.factions["jnim"].restraint = 0.1
    assert (calibration_identity(changed, targets, [], 8, 0)["behaviour_hash"]
            != calibration_identity(baseline, targets, [], 8, 0)["behaviour_hash"])
