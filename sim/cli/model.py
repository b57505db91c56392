"""`sahel-sim scenarios | validate | describe | parameters | run`: one scenario at a time."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

from sim.calibration.posterior import DEFAULT_POSTERIOR
from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_no_plots_option,
    add_posterior_option,
    posterior_path,
)
from sim.cli.output_folder import check_output_folder, remove_stale_partials, replace_folder
from sim.files import atomic_to_parquet, atomic_write_text
from sim.geography import COUNTRIES
from sim.progress import ProgressBar
from sim.scenario import (
    Scenario,
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    resolve_scenario_path,
)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate scenario files; print one line per file."""
    failed = 0
    for name in args.files:
        try:
            scenario = load_scenario(resolve_scenario_path(name))
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok: {name}: {scenario.name} ({scenario.start} to {scenario.end}, "
              f"{len(scenario.units)} units, {len(scenario.events)} events)")
    return EXIT_BAD_INPUT if failed else EXIT_OK


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the bundled scenarios with their descriptions."""
    for path in bundled_scenarios():
        try:
            scenario = load_scenario(path)
            print(f"{path.stem:<22} {scenario.start} to {scenario.end}  {scenario.description}")
        except ScenarioError as exc:
            print(f"{path.stem:<22} INVALID: {exc}")
    return EXIT_OK


def describe(scenario: Scenario) -> str:
    """A plain-text description: grid, population per country, forces, event timeline."""
    from sim.geography import TERRAIN_NAMES, build_geography

    geo = build_geography(scenario.resolution)
    lines = [f"{scenario.name}: {scenario.description}",
             f"period     {scenario.start} to {scenario.end} ({scenario.days} days), "
             f"seed {scenario.seed}",
             f"grid       {geo.nx} x {geo.ny} cells of {geo.resolution} degrees "
             f"(~{geo.cell_km:.0f} km), {int(geo.in_sahel().sum())} in the three countries",
             "", f"{'country':<14}{'cells':>7}{'population':>14}  terrain cells"]
    people = geo.population_by_country()
    for iso, name in COUNTRIES.items():
        mask = geo.country == geo.country_index(iso)
        terrain = ", ".join(f"{TERRAIN_NAMES[t]} {int((geo.terrain[mask] == t).sum())}"
                            for t in range(len(TERRAIN_NAMES)))
        lines.append(f"{name:<14}{int(mask.sum()):>7}{people[iso]:>14,.0f}  {terrain}")
    lines += ["", f"{'faction':<16}{'kind':<12}{'at start':>10}{'later':>8}  restraint  units"]
    for fid, faction in scenario.factions.items():
        units = [u for u in scenario.units if u.faction == fid]
        now = sum(u.strength for u in units if u.present)
        later = sum(u.strength for u in units if not u.present)
        lines.append(f"{fid:<16}{faction.kind:<12}{now:>10,}{later:>8,}  {faction.restraint:>9.2f}"
                     f"  {len(units)}")
    lines += ["", "juntas: " + "; ".join(
        f"{c} {j.leader} (capital {j.capital}, credibility {j.credibility})"
        for c, j in scenario.juntas.items())]
    if scenario.drones:
        lines += ["", f"{'drone fleet':<16}{'faction':<14}{'base':<18}{'size':>5}{'sorties':>9}"
                      f"{'range km':>10}  from"]
        for fid, fleet in scenario.drones.items():
            base = fleet.base if isinstance(fleet.base, str) else (
                "units" if fleet.base is None else f"{fleet.base[0]}, {fleet.base[1]}")
            lines.append(f"{fid:<16}{fleet.faction:<14}{base:<18}{fleet.size:>5}"
                         f"{fleet.sorties:>9.3f}{fleet.range_km:>10.0f}  "
                         f"{fleet.start or scenario.start}")
    lines += ["", "timeline:"]
    for event in sorted(scenario.events, key=lambda e: e.date):
        target = event.unit or event.faction or event.fleet
        detail = (f" +{event.strength}" if event.action == "reinforce" else
                  f" restraint={event.restraint}" if event.action in ("set_restraint",
                                                                      "set_fleet_restraint") else
                  f" posture={event.posture}" if event.action == "set_posture" else
                  f" size={event.size}" if event.action == "set_fleet_size" else "")
        note = f"  ({event.note})" if event.note else ""
        lines.append(f"  {event.date}  {event.action:<13} {target}{detail}{note}")
    if not scenario.events:
        lines.append("  (no events)")
    return "\n".join(lines)


def cmd_describe(args: argparse.Namespace) -> int:
    """Print the description of a scenario."""
    print(describe(load_scenario(resolve_scenario_path(args.file))))
    return EXIT_OK


def cmd_parameters(args: argparse.Namespace) -> int:
    """List the tunable parameters (dotted names for --param): value, bounds, unit, source."""
    from sim.scenario import tunable_parameters
    from sim.scenario.tunable import parameter_value

    scenario = load_scenario(resolve_scenario_path(args.file))
    data = scenario.model_dump()
    sources = scenario.parameters.sources
    for name, info in tunable_parameters(data).items():
        value = parameter_value(data, name)
        value = f"{value:.6g}" if name.endswith(".share") and value is not None else value
        source = sources.get(name.removeprefix("parameters."), info.get("source", ""))
        print(f"{name:<48} {value!s:>10}  [{info['low']}, {info['high']}] {info['unit']}  "
              f"{info['description']}" + (f" (source: {source})" if source else ""))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario: Parquet outputs, summary.json, PNG plots and a summary table."""
    path = resolve_scenario_path(args.file)
    scenario = load_scenario(path)
    seed = scenario.seed if args.seed is None else args.seed
    if seed < 0:
        raise UsageError(f"--seed: {seed} is negative; allowed 0 to 2**63-1")
    drawn: dict[str, object] = {}
    posterior = posterior_path(args.posterior)
    if posterior is not None:
        scenario, drawn = _posterior_draw(scenario, path, seed, posterior)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", scenario.name)
    suffix = "-posterior" if drawn else ""
    out = Path(args.out) if args.out else Path("runs") / f"{safe_name}-seed{seed}{suffix}"
    check_output_folder(out)
    remove_stale_partials(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out: cannot create {out.parent}: {exc.strerror or exc}") from None
    # Everything is written to a temporary folder that replaces `out` only when complete, so
    # a failed or interrupted run leaves earlier results as they were and no partial output.
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
    except OSError as exc:
        raise UsageError(f"--out: cannot write in {out.parent}: {exc.strerror or exc}") from None
    try:
        headline, written = _run_into(scenario, path, seed, partial, args, drawn)
        check_output_folder(out)  # a user may have put files there during the run
        replace_folder(partial, out)
    except UsageError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    except Exception as exc:  # one line, not a traceback; earlier results stay intact
        shutil.rmtree(partial, ignore_errors=True)
        if interrupted(exc):  # Ctrl-C inside a numba kernel comes out as a SystemError
            raise KeyboardInterrupt from exc
        print(f"error: run of {path} (seed {seed}) failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return EXIT_FAILED
    except BaseException:  # Ctrl-C, SIGTERM: remove what this run wrote
        shutil.rmtree(partial, ignore_errors=True)
        raise
    print(summary_table(headline))
    print(f"\nwrote {out}/: " + ", ".join(written))
    return EXIT_OK


def _posterior_draw(scenario: Scenario, path: Path, seed: int, posterior: Path
                    ) -> tuple[Scenario, dict[str, object]]:
    """The scenario with draw 0 of the posterior (drawn with the run's seed); what to record.

    Prints which draw it is.
    """
    from sim.experiments.posterior_runs import check_posterior, with_draw
    from sim.experiments.prepared import prepare_scenario

    prepared = prepare_scenario(scenario, label=path.stem)
    checked = check_posterior(posterior, {path.stem: prepared}).posterior
    draw = checked.draw(1, seed)[0]
    print(f"parameters from draw {draw.id} of the posterior {checked.describe()}, picked with "
          f"seed {seed}: " + ", ".join(f"{k}={v:g}" for k, v in draw.parameters.items()))
    record = {**checked.info(), "draw": draw.id, "parameters": draw.parameters}
    return with_draw(prepared, draw, checked).scenario, record


def interrupted(exc: BaseException) -> bool:
    """True if an exception was raised by an interrupt (KeyboardInterrupt in its chain).

    A signal that arrives while a numba kernel runs is raised when the kernel returns, and
    Python reports it as `SystemError: ... returned a result with an exception set`, with
    the KeyboardInterrupt as its context.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _run_into(scenario: Scenario, path: Path, seed: int, folder: Path, args: argparse.Namespace,
              posterior: dict[str, object]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Run the model and write every output into `folder`; return headline and file names.

    `posterior` (recorded in summary.json when not empty) says which posterior draw set the
    scenario's parameters.
    """
    from sim import __version__
    from sim.model import SahelModel
    from sim.outputs import outcome_table

    model = SahelModel(scenario, rng=seed)
    with ProgressBar(scenario.name, unit="day", total=scenario.days, leave=False,
                     disable=args.quiet) as bar:
        bar.update(0)
        model.run(progress=lambda done, total: bar.update(done))
    ts = model.timeseries()
    events = model.events()
    headline = {iso: {name: round(float(v), 4) for name, v in row.items()}
                for iso, row in outcome_table(ts).iterrows()}
    summary = {
        "scenario": scenario.name, "file": str(path), "scenario_hash": scenario.content_hash(),
        "seed": seed, "version": __version__, "start": str(scenario.start),
        "end": str(scenario.end), "headline": headline, "files": [],
        "scenario_resolved": scenario.model_dump(mode="json"),
        **({"posterior": posterior} if posterior else {}),
    }
    tables = {"timeseries": ts, "events": events, "cell_months": model.cell_months(),
              "cell_control": model.cell_control(),
              "fatalities": model.fatalities()}
    for name, table in tables.items():
        atomic_to_parquet(table, folder / f"{name}.parquet", index=False)
    written = [f"{n}.parquet" for n in tables] + ["summary.json"]
    if not args.no_plots:
        from sim.plots import save_run_plots

        written += [p.name for p in save_run_plots(model, ts, events, folder)]
    # Written last and listing every file: what marks the folder as a run's (see --out).
    summary["files"] = written
    atomic_write_text(folder / "summary.json",
                      json.dumps(summary, indent=2, ensure_ascii=False))
    return headline, written


def summary_table(headline: dict[str, dict[str, float]]) -> str:
    """The run's headline figures as a small text table, one column per country."""
    from sim.outputs import OUTCOMES_BY_NAME, RUN_SUMMARY

    formats = {"share": "{:.0%}", "0-1": "{:.2f}"}
    header = f"{'':<40}" + "".join(f"{COUNTRIES[c]:>15}" for c in headline)
    lines = [header, "-" * len(header)]
    for name in RUN_SUMMARY:
        outcome = OUTCOMES_BY_NAME[name]
        fmt = formats.get(outcome.unit, "{:,.0f}")
        cells = [fmt.format(h[name]) for h in headline.values()]
        lines.append(f"{outcome.label:<40}" + "".join(f"{c:>15}" for c in cells))
    return "\n".join(lines)


def register_model_commands(sub: argparse._SubParsersAction) -> None:
    """Add `validate`, `scenarios`, `describe`, `parameters` and `run` to the parser."""
    p = sub.add_parser("validate", help="check scenario files and report the first problem")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (or bundled names)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("describe", help="grid, population, forces and timeline of a scenario")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("parameters", help="tunable parameters (names for --param) and ranges")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.set_defaults(func=cmd_parameters)

    p = sub.add_parser("run", help="run a scenario once: tables, summary and plots")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    p.add_argument("--out", default=None, help="output folder (default runs/NAME-seedN)")
    add_no_plots_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_posterior_option(p, help_text=(
        "take the run's parameters from a calibrated posterior: draw 0 of it, picked by weight "
        "with the run's seed (the command prints which; summary.json records it; the default "
        f"output folder ends in -posterior). FILE defaults to {DEFAULT_POSTERIOR.as_posix()} in "
        "the working folder, else in the project's folder; a CSV with one column per parameter "
        "name of `sahel-sim parameters` and a 'weight' column"))
    p.set_defaults(func=cmd_run)
