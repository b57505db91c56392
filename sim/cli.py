"""The `sahel-sim` command line: validate, describe, run, and (later) compare and sweep.

Exit codes: 0 success, 1 a run failed, 2 bad input (a one-line message, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.scenario import COUNTRIES, Scenario, ScenarioError, load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input detected by a command (printed as one line, exit code 2)."""


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in `scenarios/`."""
    return sorted(SCENARIO_DIR.glob("*.toml"))


def resolve_scenario_path(name: str) -> Path:
    """A path as given, or the name of a bundled scenario (`baseline` -> scenarios/baseline.toml)."""
    path = Path(name)
    if path.exists() or path.suffix == ".toml":
        return path
    bundled = SCENARIO_DIR / f"{name}.toml"
    return bundled if bundled.exists() else path


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
        for c, j in scenario.juntas.items()), "", "timeline:"]
    for event in sorted(scenario.events, key=lambda e: e.date):
        target = event.unit or event.faction
        detail = (f" +{event.strength}" if event.action == "reinforce" else
                  f" restraint={event.restraint}" if event.action == "set_restraint" else
                  f" posture={event.posture}" if event.action == "set_posture" else "")
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
    """List the tunable parameters (dotted names for --param) with bounds and units."""
    from sim.scenario import tunable_parameters

    scenario = load_scenario(resolve_scenario_path(args.file))
    data = scenario.model_dump()
    for name, info in tunable_parameters(data).items():
        value = data
        for key in name.split("."):
            value = value[key]
        print(f"{name:<48} {value!s:>10}  [{info['low']}, {info['high']}] {info['unit']}  "
              f"{info['description']}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="sahel-sim",
        description="Agent-based scenario simulator of the central Sahel (Mali, Burkina Faso, "
                    "Niger). Scenarios are TOML files; see `sahel-sim scenarios`.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def _version() -> str:
    from sim import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sahel-sim` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
