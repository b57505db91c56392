"""Write a calibration's fitted values into a scenario file as its defaults.

Run: .venv/bin/python scripts/apply_fitted.py [calibration/fitted.toml] [scenarios/baseline.toml]

`sahel-sim calibrate` writes `fitted.toml`: each fitted parameter's weighted posterior median
as a dotted key (`parameters.combat.engage_probability = 0.31`). This script puts them in the
scenario between two marker lines, as `[parameters.<group>]` tables, replacing the block a
previous run wrote; everything else in the file is left as it is. A value of the previous
block that the new file does not fit is kept, marked as coming from an earlier fit: the new
fit ran with it as part of the scenario, so its posterior holds only with it. A faction's
fitted field (`factions.vdp.restraint = 0.68`) is written in place, in the faction's own
table (TOML defines a table once), with a comment naming the fit; so is a unit's fitted
strength (`units.jnim_burkina.strength = 3100`), in its `[[units]]` table. A fitted share
(`units.jnim_burkina.share = 0.45`) is written as the strengths it gives the faction's units at
the start (`sim.scenario.tunable.set_share`: the faction's total held).
`tests/calibration/test_fitted_baseline.py` checks that the baseline's values match the file.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import NoReturn

from sim.files import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "# >>> fitted by `sahel-sim calibrate` (calibration/fitted.toml, fit.json); do not edit"
END = "# <<< end of fitted values"
FITTED_NOTE = "# fitted (calibration/fitted.toml, fit.json)"
EARLIER_NOTE = "# an earlier fit's; the latest fit ran with it"


def fitted_block(fitted: dict, earlier: dict | None = None) -> str:
    """The marker-delimited TOML block of the fitted parameters (and the earlier block's rest)."""
    new = fitted.get("parameters", {})
    kept = {group: {name: value for name, value in values.items()
                    if name not in new.get(group, {})}
            for group, values in (earlier or {}).get("parameters", {}).items()}
    lines = [BEGIN]
    for group in sorted(set(new) | {g for g, values in kept.items() if values}):
        lines.append(f"[parameters.{group}]")
        lines += [f"{name} = {value!r}" for name, value in sorted(new.get(group, {}).items())]
        lines += [f"{name} = {value!r}  {EARLIER_NOTE}"
                  for name, value in sorted(kept.get(group, {}).items())]
    others = sorted(k for k in fitted if k not in ("parameters", "factions", "units"))
    if others:
        raise SystemExit(f"apply_fitted: only parameters.*, factions.* and units.* can be "
                         f"written, not {others[0]}.*")
    lines.append(END)
    return "\n".join(lines) + "\n"


def set_faction_fields(text: str, factions: dict) -> str:
    """`text` with each `factions.<id>.<field>` value written into the faction's table.

    A faction field an earlier fit wrote and this one does not fit keeps its value, marked as
    the earlier fit's (as in the parameters' block).
    """
    lines = text.split("\n")
    headers = [_table_header(line) for line in lines]
    table = None
    for i, line in enumerate(lines):
        if headers[i] is not None:
            table = headers[i][len("factions."):] if headers[i].startswith("factions.") else None
        elif table is not None and line.endswith(FITTED_NOTE):
            field = line.split("=")[0].strip()
            if field not in factions.get(table, {}):
                lines[i] = line[:-len(FITTED_NOTE)] + EARLIER_NOTE
    for faction, values in factions.items():
        if f"factions.{faction}" not in headers:
            raise SystemExit(f"apply_fitted: factions.{faction}: no table [factions.{faction}] "
                             "in the scenario")
        start = headers.index(f"factions.{faction}") + 1
        end = next((i for i in range(start, len(lines)) if headers[i] is not None),
                   len(lines))
        for field, value in values.items():
            line = f"{field} = {value!r}  {FITTED_NOTE}"
            at = next((i for i in range(start, end)
                       if lines[i].split("=")[0].strip() == field), None)
            if at is None:
                lines.insert(start, line)
                end += 1
            else:
                lines[at] = line
    return "\n".join(lines)


def set_unit_strengths(text: str, units: dict, where: Path) -> str:
    """`text` with each `units.<id>.strength` written into that unit's `[[units]]` table.

    A strength an earlier fit wrote and this one does not fit keeps its value, marked as the
    earlier fit's.
    """
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines)
              if line.split("#", 1)[0].strip().replace(" ", "") == "[[units]]"]
    seen = set()
    for start in starts:
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].lstrip().startswith("[")), len(lines))
        ids = [tomllib.loads(line)["id"] for line in lines[start:end]
               if line.split("=")[0].strip() == "id"]
        if not ids:
            continue
        for i in range(start, end):
            if lines[i].split("=")[0].strip() != "strength":
                continue
            if ids[0] in units:
                lines[i] = f"strength = {round(units[ids[0]]['strength'])}  {FITTED_NOTE}"
                seen.add(ids[0])
            elif lines[i].endswith(FITTED_NOTE):
                lines[i] = lines[i][:-len(FITTED_NOTE)] + EARLIER_NOTE
    missing = sorted(set(units) - seen)
    if missing:
        missing_unit(f"units.{missing[0]}.strength", where)
    return "\n".join(lines)


def unit_strengths(units: dict, text: str, where: Path) -> dict:
    """The fitted strengths by unit id: fitted strengths, and those a fitted share sets.

    A share is applied on the scenario's strengths (`text`, the file `where`) with the fitted
    strengths in place; the faction's units at the start get the strengths it leaves them.
    """
    out = {uid: {"strength": values["strength"]} for uid, values in units.items()
           if "strength" in values}
    shares = {uid: values["share"] for uid, values in units.items() if "share" in values}
    if not shares:
        return out
    # only a share needs the package
    from sim.scenario.errors import ScenarioError
    from sim.scenario.shares import set_share, share_members

    data = tomllib.loads(text)
    for unit in data.get("units", []):
        if unit.get("id") in out:
            unit["strength"] = round(out[unit["id"]]["strength"])
    for uid, share in shares.items():
        members = share_members(data, uid)
        if not members:
            missing_unit(f"units.{uid}.share", where, "with other units of its faction present "
                         "from the start")
        try:
            set_share(data, uid, float(share), str(where))
        except ScenarioError as error:
            raise SystemExit(f"apply_fitted: {error}") from None
        # the share sets every member's strength, changed or not: all are the fit's, so a
        # second application of the same file is a fixed point
        out.update({u["id"]: {"strength": u["strength"]} for u in members})
    return out


def missing_unit(dotted: str, where: Path, allowed: str = "and a strength") -> NoReturn:
    """Stop: the scenario has no unit a fitted value names (nothing is written)."""
    raise SystemExit(f"apply_fitted: {where}: {dotted}: no [[units]] table with this id "
                     f"{allowed} in the scenario; allowed the ids of its [[units]] tables")


def _table_header(line: str) -> str | None:
    """The dotted name of a TOML table header line (`[factions.vdp]  # x`: factions.vdp)."""
    head = line.split("#", 1)[0].strip()
    if head.startswith("[") and head.endswith("]"):
        return head.strip("[]").strip()
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    """FITTED and SCENARIO, each with its default."""
    p = argparse.ArgumentParser(prog="apply_fitted.py", description=__doc__.splitlines()[0])
    p.add_argument("fitted", nargs="?", type=Path, default=ROOT / "calibration" / "fitted.toml",
                   help="a calibration's fitted.toml (default: calibration/fitted.toml)")
    p.add_argument("scenario", nargs="?", type=Path,
                   default=ROOT / "scenarios" / "baseline.toml",
                   help="the scenario file to write into (default: scenarios/baseline.toml)")
    return p.parse_args(argv)


def read_toml(path: Path, what: str) -> tuple[str, dict]:
    """PATH's text and its TOML; SystemExit in one line naming the file if either fails."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except OSError as exc:
        raise SystemExit(f"apply_fitted: {path}: cannot read the {what} "
                         f"({exc.strerror or type(exc).__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"apply_fitted: {path}: the {what} is not valid TOML ({exc})") from None


def main(argv: list[str]) -> int:
    """Write FITTED (default calibration/fitted.toml) into SCENARIO (default the baseline)."""
    args = parse_args(argv)
    fitted_path, scenario_path = args.fitted, args.scenario
    _, fitted = read_toml(fitted_path, "fitted values")
    text, _ = read_toml(scenario_path, "scenario")
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        old_block, tail = rest.split(END + "\n", 1)
        text = head + fitted_block(fitted, tomllib.loads(old_block)) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + fitted_block(fitted)
    text = set_faction_fields(text, fitted.get("factions", {}))
    units = unit_strengths(fitted.get("units", {}), text, scenario_path)
    text = set_unit_strengths(text, units, scenario_path)
    tomllib.loads(text)  # still valid TOML
    atomic_write_text(scenario_path, text)  # a crash never leaves half a scenario
    print(f"wrote the fitted values of {fitted_path} into {scenario_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
