"""The analyst's first look at a scenario over many seeds: who kills whom, who holds what.

It also shows how deaths move from year to year.

Run: .venv/bin/python scripts/baseline_picture.py [SCENARIO] [--seeds 20] [--tree PATH]
     [--csv FILE]

`--tree` runs the model of another checkout (e.g. a `git archive` of an earlier commit) on its
own copy of the scenario, so that before/after tables come from the same script. Prints the
median and 5-95% range over seeds of: each faction kind's share of civilian deaths per country
(state side = armies, militia, Russians; jihadists; separatists; foreign forces), territory
shares at the end per country (state, armed groups, contested, ungoverned), deaths per country
and year, civilian deaths 2024/2023, coup attempts and coups per country.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
KIND_GROUPS = {"state": "state side", "militia": "state side", "russian": "state side",
               "jihadist": "jihadists", "separatist": "separatists",
               "peacekeeping": "foreign", "western": "foreign"}


def one_run(args: tuple[str, str, int]) -> dict[str, float]:
    """Figures of one seed."""
    tree, scenario_path, seed = args
    sys.path.insert(0, tree)
    import sim
    from sim.model import SahelModel

    scenario = sim.load_scenario(scenario_path)
    model = SahelModel(scenario, rng=seed).run()
    ts, deaths = model.timeseries(), model.fatalities()
    kinds = {fid: KIND_GROUPS[f.kind] for fid, f in scenario.factions.items()}
    out: dict[str, float] = {}
    civ = deaths[deaths["victim"] == "civilians"].assign(
        group=lambda d: d["perpetrator"].map(kinds), year=lambda d: d["date"].dt.year)
    for iso in ("MLI", "BFA", "NER"):
        mine = civ[civ["country"] == iso]
        total = max(mine["killed"].sum(), 1)
        for group in ("state side", "jihadists", "separatists"):
            out[f"civilian deaths by {group}, {iso}"] = (
                mine.loc[mine["group"] == group, "killed"].sum() / total)
        end = ts[(ts["country"] == iso) & (ts["date"] == ts["date"].max())].iloc[0]
        armed = [c for c in ts.columns if c.startswith("territory_")
                 and c not in ("territory_state", "territory_contested", "territory_ungoverned")]
        out[f"territory state, {iso}"] = end["territory_state"]
        out[f"territory armed groups, {iso}"] = float(end[armed].sum())
        out[f"territory contested, {iso}"] = end["territory_contested"]
        out[f"territory ungoverned, {iso}"] = end.get("territory_ungoverned", 0.0)
        yearly = ts[ts["country"] == iso].groupby(ts["date"].dt.year)
        for year, value in yearly["killed_total"].sum().items():
            out[f"deaths {iso} {year}"] = value
        civ_year = yearly["killed_civilians"].sum()
        if 2023 in civ_year and 2024 in civ_year:
            out[f"civilian deaths 2024/2023, {iso}"] = civ_year[2024] / max(civ_year[2023], 1)
        out[f"coup attempts, {iso}"] = end["coup_attempts"]
        out[f"coups, {iso}"] = end["coups"]
    by_year = ts.groupby(ts["date"].dt.year)["killed_civilians"].sum()
    if 2023 in by_year and 2024 in by_year:
        out["civilian deaths 2024/2023, all"] = by_year[2024] / max(by_year[2023], 1)
    return out


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="baseline")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--tree", default=str(ROOT), help="checkout whose model to run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--csv", default=None)
    args = parser.parse_args()
    tree = str(Path(args.tree).resolve())
    scenario = Path(tree) / args.scenario
    if not scenario.exists() and scenario.suffix != ".toml":  # a bundled name: baseline
        scenario = Path(tree) / "scenarios" / f"{args.scenario}.toml"
    if not scenario.exists():
        parser.error(f"{scenario}: no such scenario file (a path inside --tree, or a bundled "
                     "scenario's name such as baseline)")
    scenario = str(scenario)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(one_run, [(tree, scenario, s) for s in range(args.seeds)]))
    frame = pd.DataFrame(rows)
    table = pd.DataFrame({"q05": frame.quantile(0.05), "median": frame.median(),
                          "q95": frame.quantile(0.95)})
    print(f"{args.scenario}, {args.seeds} seeds, model of {tree}")
    for name, row in table.iterrows():
        share = "territory" in name or "civilian deaths by" in name
        fmt = (lambda v: f"{100 * v:6.1f}%") if share else (
            (lambda v: f"{v:8.2f}") if "/" in name or "coup" in name else (lambda v: f"{v:8,.0f}"))
        print(f"{name:<44} {fmt(row['median'])}  [{fmt(row['q05'])}, {fmt(row['q95'])}]")
    if args.csv:
        table.to_csv(args.csv)


if __name__ == "__main__":
    main()
