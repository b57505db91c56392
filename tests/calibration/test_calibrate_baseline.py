"""scripts/calibrate_baseline.py: the steps chained, published only when all succeed, resumed.

The `sahel-sim` commands are replaced by a fake that writes what each step writes (the
commands themselves are tested in test_fitting_*.py and tests/cli/test_stage_cli.py).
"""

import importlib.util
import json
import tomllib
from pathlib import Path

import pytest

from ..conftest import ROOT

spec = importlib.util.spec_from_file_location("calibrate_baseline",
                                              ROOT / "scripts" / "calibrate_baseline.py")
calibrate_baseline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibrate_baseline)

SCENARIO = 'name = "s"\n'


def option(command: list[str], name: str) -> str:
    """The value given to NAME in COMMAND."""
    return command[command.index(name) + 1]


def resolved(text: str) -> Path:
    """A command's path as the step sees it: relative ones from the repository's top."""
    path = Path(text)
    return path if path.is_absolute() else calibrate_baseline.ROOT / path


class FakeSahelSim:
    """Writes each step's files; fails the steps named in `failing`."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[list[str]] = []
        self.failing = failing

    def __call__(self, command: list[str]) -> int:
        self.calls.append(command)
        out = resolved(option(command, "--out"))
        step = "fit" if command[0] == "calibrate" else out.name
        if step in self.failing:
            return 3
        out.mkdir(parents=True, exist_ok=True)
        if step == "fit":
            for name in (*calibrate_baseline.FIT_FILES, "posterior.csv"):
                (out / name).write_text(f"fit's {name}\n", encoding="utf-8")
            (out / "fitted.toml").write_text("[parameters.violence]\nbase_rate = 0.001\n",
                                             encoding="utf-8")
        else:
            assert resolved(command[1]).name == "baseline.toml"
            # the stage runs the scenario with the fit's medians
            assert tomllib.loads(resolved(command[1]).read_text())["parameters"]["violence"] == {
                "base_rate": 0.001}
            assert resolved(option(command, "--posterior")).exists()
            (out / "posterior.csv").write_text(f"{step}'s posterior\n", encoding="utf-8")
            (out / "stage.json").write_text("{}\n", encoding="utf-8")
            fitted = ("[parameters.junta]\ncoup_rate = 30.0\n" if step == "stage_coups" else
                      "[parameters.junta]\ncoup_rate = 31.5\n[parameters.violence]\n"
                      "base_rate = 0.0009\ndialogue_restraint = 0.5\n")
            (out / "fitted.toml").write_text(fitted, encoding="utf-8")
        return 0


@pytest.fixture
def repo(tmp_path):
    """A calibration/ folder with an earlier result, and a scenario."""
    (tmp_path / "calibration" / "stage").mkdir(parents=True)
    (tmp_path / "calibration" / "stage" / "old.csv").write_text("old\n", encoding="utf-8")
    (tmp_path / "calibration" / "posterior.csv").write_text("old posterior\n", encoding="utf-8")
    (tmp_path / "baseline.toml").write_text(SCENARIO, encoding="utf-8")
    return tmp_path


def argv(repo: Path) -> list[str]:
    """The options that put the script's folders in REPO."""
    return ["--work", str(repo / "work"), "--scenario", str(repo / "baseline.toml"),
            "--calibration", str(repo / "calibration")]


def test_the_steps_chain_their_posteriors_and_publish_the_last(repo):
    fake = FakeSahelSim()
    assert calibrate_baseline.main(argv(repo), run=fake) == 0
    fit, coups, niger = fake.calls
    assert fit[:2] == ["calibrate", str(repo / "baseline.toml")]
    assert option(fit, "--max-minutes") == "40" and option(fit, "--population") == "600"
    assert option(coups, "--posterior") == str(repo / "work" / "fit" / "posterior.csv")
    assert option(niger, "--posterior") == str(repo / "work" / "stage_coups" / "posterior.csv")
    assert option(coups, "--seeds-per-proposal") == "3" and "--seeds-per-proposal" not in niger
    assert [option(c, "--proposals") for c in (coups, niger)] == ["600", "2000"]
    calibration = repo / "calibration"
    assert (calibration / "posterior.csv").read_text() == "stage's posterior\n"
    assert (calibration / "generations.csv").read_text() == "fit's generations.csv\n"
    assert not (calibration / "stage" / "old.csv").exists()  # the folder is the new stage's
    assert (calibration / "stage_coups" / "posterior.csv").exists()
    values = tomllib.loads((repo / "baseline.toml").read_text())["parameters"]
    assert values == {"junta": {"coup_rate": 31.5},
                      "violence": {"base_rate": 0.0009, "dialogue_restraint": 0.5}}
    record = json.loads((calibration / "pipeline.json").read_text())
    assert list(record["steps"]) == ["fit", "coups", "niger"]
    assert all(len(s["calls"]) == 1 and s["calls"][0]["exit"] == 0
               for s in record["steps"].values())
    assert record["steps"]["fit"]["command"].startswith("sahel-sim calibrate ")
    assert record["minutes"]["interrupted_calls"] == 0
    commit = record["steps"]["fit"]["calls"][0]["commit"]
    assert commit["commit"] is None or len(commit["commit"]) == 40
    assert record["minutes"]["total"] == pytest.approx(
        sum(record["minutes"][s] for s in ("fit", "coups", "niger")), abs=0.15)


def test_a_failing_step_changes_nothing_published_and_a_second_call_resumes(repo, capsys):
    fake = FakeSahelSim(failing=("stage",))
    assert calibrate_baseline.main(argv(repo), run=fake) == 3
    assert "step niger failed (exit 3)" in capsys.readouterr().err
    assert (repo / "baseline.toml").read_text() == SCENARIO
    assert (repo / "calibration" / "posterior.csv").read_text() == "old posterior\n"
    assert not (repo / "calibration" / "pipeline.json").exists()

    fake = FakeSahelSim()
    assert calibrate_baseline.main(argv(repo), run=fake) == 0
    assert [c[0] for c in fake.calls] == ["calibrate-stage"]  # fit and coups were done
    assert option(fake.calls[0], "--out").endswith("stage")
    record = json.loads((repo / "calibration" / "pipeline.json").read_text())
    assert [c["exit"] for c in record["steps"]["niger"]["calls"]] == [3, 0]


def test_a_call_killed_on_the_way_stays_in_the_record_untimed(repo, capsys):
    def killed(command):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate_baseline.main(argv(repo), run=killed)
    assert calibrate_baseline.main(argv(repo), run=FakeSahelSim()) == 0
    record = json.loads((repo / "calibration" / "pipeline.json").read_text())
    assert [c["exit"] for c in record["steps"]["fit"]["calls"]] == [None, 0]
    assert record["steps"]["fit"]["calls"][0]["seconds"] is None
    assert record["minutes"]["interrupted_calls"] == 1
    assert "plus 1 interrupted calls, not timed" in capsys.readouterr().out


def test_other_options_on_the_same_work_folder_are_refused(repo):
    assert calibrate_baseline.main(argv(repo), run=FakeSahelSim(failing=("fit",))) == 3
    with pytest.raises(SystemExit, match=r"step fit was run as .*--max-minutes 40.*give the "
                                         r"same options or another --work"):
        calibrate_baseline.main([*argv(repo), "--fit-minutes", "20"], run=FakeSahelSim())


def test_the_dry_run_prints_the_commands_without_running_them(repo, capsys):
    assert calibrate_baseline.main([*argv(repo), "--dry-run"], run=None) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("sahel-sim calibrate") for line in lines)
    assert not (repo / "work").exists()


def test_relative_paths_are_the_repositorys_and_the_commands_name_them_so(repo, monkeypatch):
    monkeypatch.setattr(calibrate_baseline, "ROOT", repo)
    fake = FakeSahelSim()
    args = ["--work", "work", "--scenario", "baseline.toml", "--calibration", "calibration"]
    assert calibrate_baseline.main(args, run=fake) == 0
    assert fake.calls[0][:4] == ["calibrate", "baseline.toml", "--out", "work/fit"]
    assert option(fake.calls[2], "--posterior") == "work/stage_coups/posterior.csv"
    assert (repo / "calibration" / "stage" / "posterior.csv").exists()


def test_a_calibration_over_its_budget_says_so(repo, monkeypatch, capsys):
    clock = iter(range(0, 10_000, 300))  # every step takes 5 minutes
    monkeypatch.setattr(calibrate_baseline.time, "monotonic", lambda: next(clock))
    assert calibrate_baseline.main([*argv(repo), "--budget-minutes", "12"],
                                   run=FakeSahelSim()) == 0
    out = capsys.readouterr().out
    assert "15.0 minutes against a budget of 12 (fit 5.0, coups 5.0, niger 5.0); OVER" in out
    assert "sahel-sim calibration-report" in out  # the checks to run next


def test_each_call_records_the_commit_checked_out_before_it_ran(repo, monkeypatch):
    ran = []
    monkeypatch.setattr(calibrate_baseline, "checkout_commit",
                        lambda: {"commit": "b" * 40 if ran else "a" * 40, "dirty": False})
    fake = FakeSahelSim()

    def run(command):
        ran.append(command)
        return fake(command)

    assert calibrate_baseline.main(argv(repo), run=run) == 0
    record = json.loads((repo / "calibration" / "pipeline.json").read_text())
    assert record["steps"]["fit"]["calls"][0]["commit"]["commit"] == "a" * 40


@pytest.mark.parametrize(("record", "message"), [
    ("{not json", r"work/pipeline.json: not a record of this script \(JSONDecodeError"),
    ('{"calls": []}', r"work/pipeline.json: not a record of this script \(KeyError"),
])
def test_an_unreadable_record_is_one_line(repo, record, message):
    (repo / "work").mkdir()
    (repo / "work" / "pipeline.json").write_text(record, encoding="utf-8")
    with pytest.raises(SystemExit, match=message):
        calibrate_baseline.main(argv(repo), run=FakeSahelSim())


def test_a_published_calibration_is_not_published_again(repo, capsys):
    assert calibrate_baseline.main(argv(repo), run=FakeSahelSim()) == 0
    (repo / "baseline.toml").write_text(SCENARIO, encoding="utf-8")  # edited since
    with pytest.raises(SystemExit, match=r"was published on .*; give another --work"):
        calibrate_baseline.main(argv(repo), run=FakeSahelSim())
    assert (repo / "baseline.toml").read_text() == SCENARIO


def test_a_work_folder_inside_calibration_is_refused(repo):
    args = ["--work", str(repo / "calibration" / "run"), "--scenario",
            str(repo / "baseline.toml"), "--calibration", str(repo / "calibration")]
    with pytest.raises(SystemExit, match="overlap; give a work folder outside"):
        calibrate_baseline.main(args, run=FakeSahelSim())
    assert not (repo / "calibration" / "run").exists()
