"""The issue's budget: the baseline's whole calibration in at most 60 minutes on 2 cores.

Run: .venv/bin/python benchmarks/calibration_budget.py [--keep DIR] [options of
     scripts/calibrate_baseline.py, e.g. --fit-minutes 40]

Runs `scripts/calibrate_baseline.py` (the fit with its screen, both stage steps, the fitted
values) on copies of `calibration/` and `scenarios/baseline.toml` in a temporary folder, so
the repository is left as it is, then prints the minutes of each step and the total against
the budget, with the fit's generations, simulations and final ESS. It takes 40-56 minutes
(session 52: 44.6; session 53: 56.0; session 54: 51.7, the figures in
`calibration/pipeline.json`; this script's first whole run, session 54: 39.5, a fit of 4
generations where the published one had 5).
`--keep DIR` keeps the copies and the work folder in DIR instead of a temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def calibrate_baseline():
    """scripts/calibrate_baseline.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "calibrate_baseline", ROOT / "scripts" / "calibrate_baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(folder: Path, options: list[str]) -> int:
    """The calibration in FOLDER; prints its figures; its exit code."""
    shutil.copytree(ROOT / "calibration", folder / "calibration", dirs_exist_ok=True)
    shutil.copy2(ROOT / "scenarios" / "baseline.toml", folder / "baseline.toml")
    code = calibrate_baseline().main(
        ["--work", str(folder / "work"), "--calibration", str(folder / "calibration"),
         "--scenario", str(folder / "baseline.toml"), *options])
    if code != 0 or "--dry-run" in options:
        return code
    print_figures(folder / "calibration")
    return 0


def print_figures(calibration: Path) -> None:
    """The minutes per step and in all against the budget, and the fit's size, from the
    published `pipeline.json` and `fit.json` in CALIBRATION."""
    record = json.loads((calibration / "pipeline.json").read_text())
    fit = json.loads((calibration / "fit.json").read_text())
    took = record["minutes"]
    print(f"\n{'step':<8}{'minutes':>9}")
    for step in record["steps"]:
        print(f"{step:<8}{took[step]:>9.1f}")
    print(f"{'total':<8}{took['total']:>9.1f}   budget {record['budget_minutes']:g}: "
          f"{'inside' if took['total'] <= record['budget_minutes'] else 'OVER'}")
    totals = fit["totals"]
    print(f"fit: {totals['generations']} generations, {totals['simulations']} simulations, "
          f"final ESS {totals['final_effective_sample_size']:.0f} of "
          f"{fit['settings']['population']}")


def main(argv: list[str]) -> int:
    """Run the benchmark in a temporary folder, or in --keep DIR."""
    if "--keep" in argv:
        at = argv.index("--keep")
        folder, options = Path(argv[at + 1]), argv[:at] + argv[at + 2:]
        folder.mkdir(parents=True, exist_ok=True)
        return run(folder, options)
    with tempfile.TemporaryDirectory(prefix="calibration-budget-") as folder:
        return run(Path(folder), argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
