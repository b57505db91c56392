"""`sahel-sim score | targets-from-acled`: a user's ACLED export against the model.

`score` compares an ensemble's draws with what happened, as VIEWS scores forecasts; it shows a
progress bar while it reads the runs, prints a table and writes CSV files and two plots.
`targets-from-acled` derives calibration targets from the export. Both exit 0, or 2 with one
line on bad input (a missing column, a bad date, a file that is not an export, an unknown
option value); nothing already written is replaced unless asked (`--force`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import textwrap
from pathlib import Path

from sim.acled import AcledError, parse_months
from sim.cli.common import EXIT_OK, UsageError, add_no_plots_option, add_out_option
from sim.experiments.reporting import text_table
from sim.progress import ProgressBar

SCORE_NOTES = ("skill: 1 - CRPS / CRPS of the reference (above 0: better than it). MIS 90%: "
               "mean interval score of the central 90% interval (width plus 20 x any miss). "
               "cover: share of observations inside the central 50% and 90% intervals "
               "(nominal 0.50 and 0.90). ignorance: bits, on VIEWS' fatality bins with one "
               "pseudo-count per bin. Lower is better except coverage.")


def _add_actors_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actors", type=Path, metavar="FILE", default=None,
                   help="actor mapping file (default: the bundled sim/data/acled_actors.toml)")


def register_acled_commands(sub: argparse._SubParsersAction) -> None:
    """Add `score` and `targets-from-acled` to the `sahel-sim` parser."""
    p = sub.add_parser(
        "score", help="score an ensemble against your ACLED export (CRPS, MIS, coverage)",
        description="Score an ensemble's fatality draws per country-month and per PRIO-GRID "
                    "cell-month against an ACLED (or UCDP GED) CSV export you supply, as VIEWS "
                    "scores forecasts: CRPS, mean interval score at 90%%, coverage of the 50%% "
                    "and 90%% intervals, ignorance on VIEWS' bins; also for a climatological "
                    "forecast (last year's months of each unit, from the same export) and an "
                    "all-zero one. Writes scores.csv, per-unit scores, crps_map.png and "
                    "country_months.png. Needs the 'scoring' extra (scoringrules).")
    p.add_argument("ensemble_dir", type=Path, metavar="ENSEMBLE_DIR",
                   help="the --out folder of `sahel-sim ensemble` (or of `compare`: its "
                        "baseline, or --scenario)")
    p.add_argument("acled", type=Path, metavar="ACLED.csv",
                   help="your ACLED export (standard CSV columns) or a UCDP GED CSV")
    p.add_argument("--level", choices=("country", "cell", "both"), default="both",
                   help="score country-months, PRIO-GRID cell-months or both (default)")
    p.add_argument("--months", metavar="FIRST:LAST", default=None,
                   help="months to score, e.g. 2025-01:2025-12 (default: every whole month "
                        "both cover)")
    _add_actors_option(p)
    p.add_argument("--scenario", metavar="LABEL", default=None,
                   help="in a `compare` folder, the scenario to score (default: the baseline)")
    add_out_option(p, "folder of the results (default: ENSEMBLE_DIR/score-<export's name>)")
    add_no_plots_option(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "targets-from-acled", help="calibration targets from your ACLED export",
        description="Derive calibration targets (the format of calibration/targets.toml) from "
                    "an ACLED (or UCDP GED) export: deaths and civilian deaths per country and "
                    "year, the largest event, the share of civilian deaths by jihadist groups "
                    "and by the state side; each with its definition, the file as its source, a "
                    "±15%% band (an assumption) and confidence M. The event-size distribution "
                    "is written beside it as NAME_event_sizes.csv.")
    p.add_argument("acled", type=Path, metavar="ACLED.csv", help="your export (CSV)")
    p.add_argument("--period", required=True, metavar="FIRST:LAST",
                   help="days to count, e.g. 2023-01-01:2024-12-31 (both included)")
    add_out_option(p, "targets file to write (default: targets_<export's name>.toml)",
                   metavar="FILE")
    _add_actors_option(p)
    p.add_argument("--band", type=float, default=0.15, metavar="B",
                   help="relative half-width of each target's range (default 0.15)")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(func=cmd_targets_from_acled)


def cmd_score(args: argparse.Namespace) -> int:
    """`sahel-sim score ENSEMBLE_DIR ACLED.csv`."""
    from sim.acled import score_ensemble

    bar = ProgressBar("reading runs", leave=False)
    try:
        months = parse_months(args.months) if args.months else None
        result = score_ensemble(args.ensemble_dir, args.acled, level=args.level, months=months,
                                actors=args.actors, scenario=args.scenario, out=args.out,
                                plots=not args.no_plots, progress=bar.update)
    except AcledError as exc:
        raise UsageError(str(exc)) from None
    finally:
        bar.close()
    data = result.events
    print(f"{data.path.name}: {data.kind} export, {len(data.events):,} events in Mali, Burkina "
          f"Faso and Niger ({data.outside:,} elsewhere left out), {data.first} to {data.last}")
    print(result.mapping.text())
    print(f"{args.ensemble_dir}: scenario {result.scenario}, {result.runs} runs")
    for note in result.notes:
        print(f"note: {note}")
    for level, rows in result.summary.groupby("level", sort=False):
        units = int(rows["units"].iloc[0])
        n_months = len(result.months)
        what = ("countries" if level == "country" else "PRIO-GRID cells")
        print(f"\n{level}-months: {units // n_months} {what} x {n_months} months "
              f"({result.months[0]} to {result.months[-1]})\n")
        table = [[r.forecast + (f" ({result.runs} runs)" if r.forecast == "model" else ""),
                  f"{r.crps:.3f}", _skill(r.crps_skill_vs_climatology),
                  _skill(r.crps_skill_vs_zero), f"{r.mis_90:.2f}", f"{r.coverage_50:.2f}",
                  f"{r.coverage_90:.2f}", f"{r.ignorance:.3f}"]
                 for r in rows.itertuples(index=False)]
        print(text_table(["forecast", "CRPS", "skill vs clim.", "skill vs zero", "MIS 90%",
                          "cover 50%", "cover 90%", "ignorance"], table))
    print()
    print(textwrap.fill(SCORE_NOTES, 96))
    print(f"results in {result.out}/ ({len(result.files)} files)")
    return EXIT_OK


def _skill(value: float) -> str:
    return "-" if value != value else f"{value:+.3f}"


def cmd_targets_from_acled(args: argparse.Namespace) -> int:
    """`sahel-sim targets-from-acled ACLED.csv --period FIRST:LAST`."""
    from sim.acled import load_actor_map, map_events, read_events
    from sim.acled.evaluation import baseline_factions
    from sim.acled.targets import (
        derive_targets,
        event_size_table,
        parse_period,
        targets_toml,
        write_targets,
    )

    try:
        first, last = parse_period(args.period)
        out = args.out or Path(f"targets_{args.acled.stem}.toml")
        data = read_events(args.acled)
        kinds = baseline_factions()
        actors = load_actor_map(args.actors, kinds)
        events, mapping = map_events(data.events, actors)
        targets = derive_targets(data, events, kinds, first, last, args.band)
        header = [f"Calibration targets derived from {data.kind} export {data.path.name} by "
                  f"`sahel-sim targets-from-acled` on {dt.date.today()}.",
                  f"Period {first} to {last}; actor mapping {actors.path}.",
                  mapping.text(), "",
                  f"Ranges are the counts ±{args.band:.0%} (an assumption), confidence M. "
                  f"The event-size distribution is in {out.stem}_event_sizes.csv."]
        files = write_targets(out, targets_toml(targets, header),
                              event_size_table(events, first, last), args.force)
    except AcledError as exc:
        raise UsageError(str(exc)) from None
    print(f"{data.path.name}: {data.kind} export, {len(data.events):,} events in the three "
          f"countries, {data.first} to {data.last}")
    print(mapping.text())
    print(f"wrote {len(targets)} targets to {files[0]} and the event-size distribution to "
          f"{files[1]}")
    return EXIT_OK
