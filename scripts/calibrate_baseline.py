"""The baseline's whole calibration in one command, timed: the fit, the second stage, the values.

Run: .venv/bin/python scripts/calibrate_baseline.py [--work runs/calibration] [--dry-run]

The steps (docs/CALIBRATION.md, "The whole calibration in one command"), each a `sahel-sim`
command whose folder is in --work, so an interrupted calibration resumes where it stopped
when the same command is run again:

1. `fit`: `sahel-sim calibrate` (the Morris screen and ABC-SMC) with a time budget;
2. the fit's medians written into a copy of the baseline (`--work`/baseline.toml), which the
   second stage runs;
3. `coups`: `sahel-sim calibrate-stage`, the coup rate and success fitted to Burkina Faso's
   two coup targets given the fit's posterior, three runs per proposal;
4. `niger`: the dialogue's restraint fitted to Niger's three targets given step 3's posterior;
5. publish: only once every step has succeeded are the fit's files, both stage folders, the
   stage's posterior and medians copied into `calibration/`, the values into the baseline,
   and `calibration/pipeline.json` written (each step's command and wall time, over every
   call that worked on it, and their total against the budget).

Nothing in `calibration/` or `scenarios/` changes before step 5; a failing step stops the
script with its exit code and one line naming it. A work folder is published once: a new
calibration takes a new --work (or the old one removed). Relative paths are taken from the
repository's top, where the commands run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sim.calibration.fit_result import checkout_commit

ROOT = Path(__file__).resolve().parent.parent
FIT_FILES = ("calibration.json", "fit.json", "generations.csv", "screening.csv",
             "screening_indices.csv")  # its posterior and medians: the last stage step's
STAGE_STEPS = {  # step: (stage folder, parameters fitted, targets fitted to, runs each)
    "coups": ("stage_coups", ("parameters.junta.coup_rate", "parameters.junta.coup_success"),
              ("bfa_coup_attempts", "bfa_successful_coups"), 3),
    "niger": ("stage", ("parameters.violence.dialogue_restraint",),
              ("ner_jihadist_attack_deaths_change", "ner_jihadist_attack_deaths_before_coup",
               "ner_jihadist_attack_deaths_after_coup"), 1),
}
LAST_STAGE = list(STAGE_STEPS.values())[-1][0]  # its posterior and medians are published
RECORD = "pipeline.json"
Runner = Callable[[list[str]], int]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The options, with relative paths taken from the repository's top."""
    p = argparse.ArgumentParser(prog="calibrate_baseline.py", description=__doc__.split("\n")[0],
                                epilog="Relative paths are taken from the repository's top.")
    p.add_argument("--work", type=Path, default=Path("runs/calibration"),
                   help="folder of the steps' outputs and databases (default runs/calibration)")
    p.add_argument("--scenario", type=Path, default=Path("scenarios/baseline.toml"))
    p.add_argument("--calibration", type=Path, default=Path("calibration"),
                   help="where the result is published (default calibration/)")
    p.add_argument("--fit-minutes", type=float, default=40.0,
                   help="the fit's generations' time budget, `calibrate --max-minutes` (40)")
    p.add_argument("--population", type=int, default=600)
    p.add_argument("--max-simulations", type=int, default=18_500)
    p.add_argument("--coup-proposals", type=int, default=600)
    p.add_argument("--niger-proposals", type=int, default=2000)
    p.add_argument("--coup-keep", type=int, default=50,
                   help="proposals the coup step keeps (50: about as many as land in range)")
    p.add_argument("--niger-keep", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-minutes", type=float, default=60.0,
                   help="the whole calibration's budget, checked at the end (60)")
    p.add_argument("--dry-run", action="store_true", help="print the commands and stop")
    args = p.parse_args(list(argv))
    for name in ("work", "scenario", "calibration"):
        path = getattr(args, name)
        setattr(args, name, (path if path.is_absolute() else ROOT / path).resolve())
    return args


def step_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """Each step's `sahel-sim` arguments, in order."""
    work = args.work
    commands = {"fit": [
        "calibrate", repo_relative(args.scenario), "--out", repo_relative(work / "fit"),
        "--population", str(args.population), "--max-simulations", str(args.max_simulations),
        "--max-minutes", f"{args.fit_minutes:g}", "--workers", str(args.workers),
        "--seed", str(args.seed)]}
    posterior = work / "fit" / "posterior.csv"
    proposals = {"coups": args.coup_proposals, "niger": args.niger_proposals}
    keep = {"coups": args.coup_keep, "niger": args.niger_keep}
    for step, (folder, parameters, targets, runs_each) in STAGE_STEPS.items():
        command = ["calibrate-stage", repo_relative(work / "baseline.toml"), "--posterior",
                   repo_relative(posterior)]
        command += [a for name in parameters for a in ("--fit", name)]
        command += [a for name in targets for a in ("--to", name)]
        command += ["--proposals", str(proposals[step]), "--keep", str(keep[step])]
        command += ["--seeds-per-proposal", str(runs_each)] if runs_each > 1 else []
        command += ["--workers", str(args.workers), "--seed", str(args.seed),
                    "--out", repo_relative(work / folder)]
        commands[step] = command
        posterior = work / folder / "posterior.csv"
    return commands


def repo_relative(path: Path) -> str:
    """PATH relative to the repository when inside it (the commands run there), else whole."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def command_line(arguments: list[str]) -> str:
    """The step's command as a shell line."""
    return " ".join(["sahel-sim", *map(shlex.quote, arguments)])


def run_sahel_sim(arguments: list[str]) -> int:
    """Run `sahel-sim ARGUMENTS` with this Python in the repository; its exit code.

    A step killed by signal N gives 128 + N, as a shell would.
    """
    code = subprocess.run([sys.executable, "-m", "sim.cli", *arguments], cwd=ROOT,
                          check=False).returncode
    return code if code >= 0 else 128 - code


def apply_fitted(fitted: Path, scenario: Path) -> None:
    """scripts/apply_fitted.py's main on FITTED and SCENARIO."""
    spec = importlib.util.spec_from_file_location("apply_fitted",
                                                  Path(__file__).with_name("apply_fitted.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(fitted), str(scenario)])


def load_record(work: Path, commands: dict[str, list[str]]) -> dict:
    """The work folder's record of earlier calls, or a new one.

    Raises:
        SystemExit: the record is unreadable, names other commands, or was published.
    """
    path = work / RECORD
    if not path.exists():
        return {"steps": {step: {"command": command_line(c), "calls": []}
                          for step, c in commands.items()}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        steps = record["steps"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"calibrate_baseline: {path}: not a record of this script "
                         f"({type(exc).__name__}: {exc}); give another --work") from None
    if record.get("published"):
        raise SystemExit(f"calibrate_baseline: {path}: this calibration was published on "
                         f"{record['published']}; give another --work to calibrate again")
    for step, command in commands.items():
        line, before = command_line(command), steps.get(step, {}).get("command")
        if before != line:
            raise SystemExit(f"calibrate_baseline: {path}: step {step} was run as "
                             f"'{before}', not '{line}'; give the same options or another "
                             "--work")
    return record


def save_record(folder: Path, record: dict) -> None:
    """Write RECORD into FOLDER whole (through a temporary file)."""
    path = folder / RECORD
    path.with_suffix(".tmp").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    path.with_suffix(".tmp").replace(path)


def minutes(record: dict) -> dict[str, float | int]:
    """Each step's minutes over the calls that ended, their total, and the killed calls.

    A call killed on the way (`interrupted_calls`) is untimed: the total is then a lower bound.
    """
    calls = [c for s in record["steps"].values() for c in s["calls"]]
    each = {step: round(sum(c["seconds"] or 0 for c in s["calls"]) / 60, 1)
            for step, s in record["steps"].items()}
    return each | {"total": round(sum(each.values()), 1),
                   "interrupted_calls": sum(c["exit"] is None for c in calls)}


def replace_folder(source: Path, target: Path) -> None:
    """TARGET becomes a copy of SOURCE; the old TARGET goes only once the copy is whole."""
    fresh, old = target.with_name(target.name + ".new"), target.with_name(target.name + ".old")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(source, fresh)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.replace(old)
    fresh.replace(target)
    shutil.rmtree(old, ignore_errors=True)


def publish(args: argparse.Namespace, record: dict) -> None:
    """Copy the finished calibration into calibration/ and its values into the scenario."""
    work, out = args.work, args.calibration
    for name in FIT_FILES:
        shutil.copy2(work / "fit" / name, out / name)
    for folder, *_ in STAGE_STEPS.values():
        replace_folder(work / folder, out / folder)
    last = work / LAST_STAGE
    for name in ("posterior.csv", "fitted.toml"):
        shutil.copy2(last / name, out / name)
    shutil.copy2(work / "baseline.toml", args.scenario)
    save_record(out, record)


def check_paths(args: argparse.Namespace) -> None:
    """The scenario and calibration/ exist, and the work folder is apart from calibration/."""
    for path in (args.scenario, args.calibration):
        if not path.exists():
            raise SystemExit(f"calibrate_baseline: {path}: not found")
    work, out = args.work, args.calibration
    if work.is_relative_to(out) or out.is_relative_to(work):
        raise SystemExit(f"calibrate_baseline: --work {work} and --calibration {out} overlap; "
                         "give a work folder outside the published one")


def main(argv: Sequence[str], run: Runner = run_sahel_sim) -> int:
    """Run the steps not yet done, then publish; 0, or the failing step's exit code."""
    args = parse_args(argv)
    commands = step_commands(args)
    if args.dry_run:
        for command in commands.values():
            print(command_line(command))
        return 0
    check_paths(args)
    args.work.mkdir(parents=True, exist_ok=True)
    record = load_record(args.work, commands)
    record["budget_minutes"] = args.budget_minutes
    for step, command in commands.items():
        calls = record["steps"][step]["calls"]
        if calls and calls[-1]["exit"] == 0:
            print(f"calibrate_baseline: step {step}: done in an earlier call", file=sys.stderr)
            continue
        if step == "coups":  # the stages run the baseline with the fit's medians
            shutil.copy2(args.scenario, args.work / "baseline.toml")
            apply_fitted(args.work / "fit" / "fitted.toml", args.work / "baseline.toml")
        print(f"calibrate_baseline: step {step}: {record['steps'][step]['command']}",
              file=sys.stderr)
        started = time.monotonic()
        # recorded before it runs: a call killed on the way stays, untimed (exit null)
        calls.append({"started": datetime.now(UTC).isoformat(timespec="seconds"),
                      "commit": checkout_commit(), "seconds": None, "exit": None})
        save_record(args.work, record)
        code = run(command)
        calls[-1] |= {"seconds": round(time.monotonic() - started, 1), "exit": code}
        save_record(args.work, record)
        if code != 0:
            print(f"calibrate_baseline: step {step} failed (exit {code}); calibration/ and "
                  f"the scenario are unchanged; run again to resume", file=sys.stderr)
            return code
    apply_fitted(args.work / LAST_STAGE / "fitted.toml", args.work / "baseline.toml")
    record["minutes"] = minutes(record)
    record["published"] = datetime.now(UTC).isoformat(timespec="seconds")
    publish(args, record)
    save_record(args.work, record)
    took = record["minutes"]
    steps = ", ".join(f"{step} {took[step]}" for step in commands)
    note = "" if took["total"] <= args.budget_minutes else "; OVER the budget"
    if took["interrupted_calls"]:
        note += f"; plus {took['interrupted_calls']} interrupted calls, not timed"
    print(f"calibrate_baseline: {took['total']} minutes against a budget of "
          f"{args.budget_minutes:g} ({steps}){note}; published into "
          f"{repo_relative(args.calibration)} and {repo_relative(args.scenario)}")
    scenario = repo_relative(args.scenario)
    print("next, the checks of the published calibration (docs/CALIBRATION.md):\n"
          f"  sahel-sim reachability {scenario} --runs 2000 --seed 0 --workers {args.workers}\n"
          f"  sahel-sim calibration-report {scenario} --posterior "
          f"{repo_relative(args.calibration / 'posterior.csv')} --out "
          f"{repo_relative(args.calibration)} --runs 300")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
