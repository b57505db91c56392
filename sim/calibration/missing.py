"""Why the calibration misses what it misses: a mechanism the model lacks, or the fit's reach.

The issue's rule for a target the calibrated model cannot reach is to say which mechanism is
missing, never to widen its range. `calibration/missing_mechanisms.toml` says it: each
`[[mechanisms]]` entry has a `name`, a `title`, the `targets` it would move, its `kind`, what
the model `lacks` (what it does instead, with the measurement that shows it), `candidates`
and its `status`. Two kinds (`KINDS`):

- `mechanism` (the default): the model lacks a mechanism; the candidates are sourced ways
  to build it, the status says why it is not built;
- `fit`: the model has what moves the targets and a point inside the priors reaches them,
  but the fit does not put its parameters there; the candidates are such points, with the
  targets they trade away, the status says why the fit leaves them.

`load_mechanisms` checks the file against the targets (one line, `<file>:<line>:
mechanisms[i] (name): field: problem; allowed: ...`).

`why_missed` writes the report's sections on them, one per kind: for every entry that covers
a missed target, its misses (with the share of runs in range), the conflicts the
reachability sweep found for them (`sim.calibration.reachability`: pairs of targets its runs
hit together far less often than chance), the text and the candidates; then the misses no
entry covers. The sweep is read (`read_sweep`) only when it was made with the same
scenario behaviour (`Scenario.behaviour_hash`), targets and model code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.comparisons import IDENTIFIER, FieldProblem
from sim.calibration.reachability import (
    CONFIG_FILE,
    PAIR_COLUMNS,
    PAIRS_FILE,
    REACH_FILE,
    conflicting_pairs,
    recorded_config,
)
from sim.calibration.report import miss_text, missed_rows
from sim.calibration.targets import (
    CALIBRATION_DIR,
    TableLines,
    Target,
    parse_entries,
    read_tables,
)
from sim.scenario import did_you_mean

DEFAULT_MECHANISMS = CALIBRATION_DIR / "missing_mechanisms.toml"
MECHANISM_KEYS = ("name", "title", "targets", "kind", "lacks", "candidates", "status")
KINDS = ("mechanism", "fit")
# Per kind: the report's heading, its introduction and the label of the entries' text.
SECTIONS = {
    "mechanism": (
        "What the model lacks",
        "A range is not widened to fit: for the misses above, each entry below names a "
        "mechanism the model lacks (`calibration/missing_mechanisms.toml`, kind `mechanism`).",
        "What the model does instead"),
    "fit": (
        "What the fit leaves out",
        "Misses the model's own mechanisms reach inside the priors, at a point the fit does "
        "not settle on (kind `fit`): each entry gives such a point, what it trades away and "
        "why the fit leaves it.",
        "Where the fit leaves it"),
}
CONFLICTS_NOTE = ("Conflicts: pairs of targets that the reachability sweep's runs over the "
                  "priors' box hit together far less often than chance (`sahel-sim "
                  "reachability`): inside those priors, the fit can only trade one for the "
                  "other.")


@dataclass(frozen=True, slots=True)
class MissingMechanism:
    """Why some targets are missed: a mechanism the model lacks, or a point the fit leaves."""

    name: str
    title: str
    targets: tuple[str, ...]
    lacks: str
    candidates: tuple[str, ...]
    status: str
    kind: str = "mechanism"


@dataclass(frozen=True, slots=True)
class Sweep:
    """A reachability sweep's tables: pairs (PAIR_COLUMNS) and per-target reach."""

    pairs: pd.DataFrame
    reach: pd.DataFrame


def load_mechanisms(path: str | Path, targets: Sequence[Target],
                    targets_file: str | Path = "the targets file") -> list[MissingMechanism]:
    """Read and check a missing-mechanisms file against the targets' names.

    Raises:
        CalibrationError: one line naming the file, line, entry, field, problem and fix.
    """
    path = Path(path)
    text, entries = read_tables(path, "mechanisms")
    lines = TableLines(text, table="mechanisms", sub=None)
    names = [t.name for t in targets]
    return parse_entries(path, lines, "mechanisms", entries,
                         lambda entry: _mechanism(entry, names, targets_file))


def _mechanism(entry: dict[str, Any], names: Sequence[str],
               targets_file: str | Path) -> MissingMechanism:
    for key in entry:
        if key not in MECHANISM_KEYS:
            raise FieldProblem(key, f"unknown key{did_you_mean(key, MECHANISM_KEYS)}",
                               ", ".join(MECHANISM_KEYS))
    text = {key: _text(entry, key) for key in ("name", "title", "lacks", "status")}
    if not IDENTIFIER.match(text["name"]):
        raise FieldProblem("name", f"{text['name']!r} is not a lower_snake_case identifier",
                           "letters a-z, digits and _, starting with a letter")
    kind = entry.get("kind", "mechanism")
    if kind not in KINDS:
        raise FieldProblem("kind", f"{kind!r} is not a kind", " or ".join(KINDS))
    targets = _texts(entry, "targets", required=True)
    for i, name in enumerate(targets):
        if name not in names:
            raise FieldProblem("targets", f"{name!r} is not a target{did_you_mean(name, names)}",
                               f"names of the targets in {targets_file}")
        if name in targets[:i]:
            raise FieldProblem("targets", f"{name!r} is listed twice", "each target once")
    return MissingMechanism(name=text["name"], title=text["title"], targets=targets,
                            lacks=text["lacks"], candidates=_texts(entry, "candidates"),
                            status=text["status"], kind=kind)


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FieldProblem(key, "missing" if value is None else f"expected text, got {value!r}",
                           "non-empty text")
    return value.strip()


def _texts(entry: dict[str, Any], key: str, required: bool = False) -> tuple[str, ...]:
    value = entry.get(key, [])
    if (not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value)
            or (required and not value)):
        raise FieldProblem(key, f"expected a{' non-empty' if required else ''} list of texts, "
                           f"got {value!r}", '["...", "..."]')
    return tuple(v.strip() for v in value)


def read_sweep(folder: Path, identity: dict[str, Any]) -> tuple[Sweep | None, str]:
    """The sweep in `folder` if it applies to `identity`, else None and why not.

    It applies when it was made with the same scenario, targets and model code
    (`sim.calibration.reachability.sweep_identity`) and its tables are readable.
    """
    recorded = recorded_config(folder / CONFIG_FILE)
    if not isinstance(recorded, dict):
        return None, f"{folder} holds no readable sweep ({CONFIG_FILE})"
    for key, what in (("behaviour_hash", "another scenario"), ("targets", "other targets"),
                      ("model_code", "other model code")):
        if key not in recorded:
            return None, f"the sweep in {folder} records no {key.replace('_', ' ')}"
        if recorded[key] != identity[key]:
            return None, f"the sweep in {folder} was made with {what}"
    try:
        pairs, reach = pd.read_csv(folder / PAIRS_FILE), pd.read_csv(folder / REACH_FILE)
    except (OSError, ValueError) as exc:
        return None, f"{folder}: its tables are unreadable ({exc})"
    lacking = ([c for c in PAIR_COLUMNS if c not in pairs]
               + [c for c in ("target", "reached", "side") if c not in reach])
    if lacking:
        return None, f"{folder}: no column {lacking[0]!r} in its tables"
    return Sweep(pairs, reach), ""


def why_missed(table: pd.DataFrame, targets: Sequence[Target],
               mechanisms: Sequence[MissingMechanism], sweep: Sweep | None,
               sweep_note: str = "") -> list[str]:
    """The report's Markdown sections on why its misses miss (one per kind, then the rest).

    Args:
        table: the evaluated report table (`sim.calibration.report.evaluate`).
        targets: the targets, for their ranges.
        mechanisms: the entries of the mechanisms file (`load_mechanisms`).
        sweep: the reachability sweep's tables (`read_sweep`), or None.
        sweep_note: why the sweep's conflicts are not shown ('' when they are).
    """
    missed = {row.target: row for row in missed_rows(table)}
    if not missed:
        return []
    by_name = {t.name: t for t in targets}
    lines: list[str] = []
    covered: set[str] = set()
    # said once, in the first section written
    preamble = [CONFLICTS_NOTE, ""] + ([f"Conflicts not shown: {sweep_note}.", ""]
                                       if sweep_note else [])
    for kind in KINDS:
        heading, intro, label = SECTIONS[kind]
        section: list[str] = []
        for entry in (e for e in mechanisms if e.kind == kind):
            its_misses = [name for name in entry.targets if name in missed]
            if not its_misses:
                continue
            covered.update(its_misses)
            section += ["", f"### {entry.title}", "", "Missed:"]
            section += [f"- {name}: {miss_text(by_name[name], missed[name])}"
                        for name in its_misses]
            section += _conflicts(sweep, its_misses, set(entry.targets))
            section += ["", f"{label}: {entry.lacks}"]
            if entry.candidates:
                section += ["", "Candidates:"] + [f"- {c}" for c in entry.candidates]
            section += ["", f"Status: {entry.status}"]
        if section:
            lines += ["", f"## {heading}", "", intro, "", *preamble]
            lines += section[1:]
            preamble = []
    uncovered = [name for name in missed if name not in covered]
    if uncovered:
        lines += ["", "## Misses no entry explains", "", *preamble]
        lines += [f"- {name}: {miss_text(by_name[name], missed[name])}" for name in uncovered]
        lines += _conflicts(sweep, uncovered, None)
    return lines


def _conflicts(sweep: Sweep | None, names: Sequence[str], entry: set[str] | None
               ) -> list[str]:
    """The sweep's word on `names`: those no run reaches, and the conflicts touching them.

    A partner outside `entry` (the mechanism's targets; None: no entry) is marked.
    """
    if sweep is None:
        return []
    lines = []
    unreached = sweep.reach[sweep.reach["target"].isin(names) & (sweep.reach["reached"] == 0)]
    for row in unreached.itertuples(index=False):
        where = f" (every run {row.side} it)" if row.side in ("below", "above") else ""
        lines.append(f"- {row.target}: no run of the sweep reaches its range{where}")
    pairs = conflicting_pairs(sweep.pairs)
    touching = pairs[pairs["target_a"].isin(names) | pairs["target_b"].isin(names)]
    for r in touching.itertuples(index=False):
        outside = entry is not None and not {r.target_a, r.target_b} <= entry
        mark = " (a target outside this entry)" if outside else ""
        lines.append(f"- {r.target_a} with {r.target_b}{mark}: {int(r.joint)} runs hit both "
                     f"against {r.expected:.1f} expected (of {int(r.runs):,} runs; "
                     f"p {r.p_value:.1g})")
    return ["", "Conflicts in the reachability sweep:", *lines] if lines else []
