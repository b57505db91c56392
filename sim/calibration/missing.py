"""What the model lacks: the missing mechanisms named for the targets the calibration misses.

The issue's rule for a target the calibrated model cannot reach is to say which mechanism is
missing, never to widen its range. `calibration/missing_mechanisms.toml` names them: each
`[[mechanisms]]` entry has a `name`, a `title`, the `targets` it would move, what the model
`lacks` (what it does instead, with the measurement that shows it), `candidates` (sourced
ways to build it) and its `status` (why it is not built). `load_mechanisms` checks the file
against the targets (one line, `<file>:<line>: mechanisms[i] (name): field: problem;
allowed: ...`).

`why_missed` writes the report's section on them: for every mechanism that covers a missed
target, its misses, the conflicts the reachability sweep found among its targets
(`sim.calibration.reachability`: pairs hit together far less often than chance), what the
model lacks and the candidates; then the misses no named mechanism covers. The conflicts are
taken only from a sweep of the same scenario, targets and model code (`sweep_is_current`).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.comparisons import IDENTIFIER, FieldProblem
from sim.calibration.errors import CalibrationError
from sim.calibration.targets import CALIBRATION_DIR, TableLines, Target
from sim.scenario import did_you_mean

DEFAULT_MECHANISMS = CALIBRATION_DIR / "missing_mechanisms.toml"
MECHANISM_KEYS = ("name", "title", "targets", "lacks", "candidates", "status")


@dataclass(frozen=True, slots=True)
class MissingMechanism:
    """A mechanism the model lacks, the targets it would move, and how it could be built."""

    name: str
    title: str
    targets: tuple[str, ...]
    lacks: str
    candidates: tuple[str, ...]
    status: str


def load_mechanisms(path: str | Path, targets: Sequence[Target]) -> list[MissingMechanism]:
    """Read and check a missing-mechanisms file against the targets' names.

    Raises:
        CalibrationError: one line naming the file, line, entry, field, problem and fix.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise CalibrationError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot read: {str(exc).split(' (at')[0]}") from None
    extra = sorted(set(data) - {"mechanisms"})
    entries = data.get("mechanisms")
    if extra or not isinstance(entries, list) or not entries:
        raise CalibrationError(f"{path}: {extra[0] if extra else 'mechanisms'}: expected only "
                               "[[mechanisms]] tables; allowed: a list of [[mechanisms]] "
                               "tables (see calibration/README.md)")
    names = [t.name for t in targets]
    lines = TableLines(text, table="mechanisms", sub=None)
    found: list[MissingMechanism] = []
    for i, entry in enumerate(entries):
        label = f"mechanisms[{i}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({entry['name']})"
        try:
            mechanism = _mechanism(entry, names)
            if any(m.name == mechanism.name for m in found):
                raise FieldProblem("name", "duplicate name", "a name used once")
        except FieldProblem as problem:
            allowed = f"; allowed: {problem.allowed}" if problem.allowed else ""
            raise CalibrationError(f"{path}{lines.where(i, problem.field)}: {label}: "
                                   f"{problem.field}: {problem.message}{allowed}") from None
        found.append(mechanism)
    return found


def _mechanism(entry: Any, names: Sequence[str]) -> MissingMechanism:
    if not isinstance(entry, dict):
        raise FieldProblem("", f"expected a table, got {type(entry).__name__}",
                           "[[mechanisms]] tables")
    for key in entry:
        if key not in MECHANISM_KEYS:
            raise FieldProblem(key, f"unknown key{did_you_mean(key, MECHANISM_KEYS)}",
                               ", ".join(MECHANISM_KEYS))
    text = {key: _text(entry, key) for key in ("name", "title", "lacks", "status")}
    if not IDENTIFIER.match(text["name"]):
        raise FieldProblem("name", f"{text['name']!r} is not a lower_snake_case identifier",
                           "letters a-z, digits and _, starting with a letter")
    targets = _texts(entry, "targets", required=True)
    for name in targets:
        if name not in names:
            raise FieldProblem("targets", f"{name!r} is not a target{did_you_mean(name, names)}",
                               "names of calibration/targets.toml")
    return MissingMechanism(name=text["name"], title=text["title"], targets=targets,
                            lacks=text["lacks"], candidates=_texts(entry, "candidates"),
                            status=text["status"])


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


def sweep_is_current(folder: Path, config: dict[str, Any]) -> str:
    """Why the sweep in `folder` does not apply to `config`, or '' when it does.

    It applies when it was made for the same scenario, targets and model code
    (`sim.calibration.reachability.sweep_identity`).
    """
    try:
        recorded = json.loads((folder / "reachability.json").read_text(encoding="utf-8"))
        pd.read_csv(folder / "pairs.csv", nrows=1)
    except (OSError, ValueError):
        return f"{folder} holds no readable sweep (reachability.json and pairs.csv)"
    plain = json.loads(json.dumps(config))
    for key, what in (("scenario_hash", "another scenario"), ("targets", "other targets"),
                      ("model_code", "other model code")):
        if recorded.get(key) != plain.get(key):
            return f"the sweep in {folder} was made with {what}"
    return ""


def why_missed(table: pd.DataFrame, targets: Sequence[Target],
               mechanisms: Sequence[MissingMechanism], pairs: pd.DataFrame | None,
               sweep_note: str = "") -> list[str]:
    """The report's Markdown section on what the model lacks for its misses.

    Args:
        table: the evaluated report table (`sim.calibration.report.evaluate`).
        targets: the targets, for their ranges.
        mechanisms: the named missing mechanisms (`load_mechanisms`).
        pairs: the reachability sweep's pairs.csv, or None.
        sweep_note: why the sweep's conflicts are not shown ('' when they are).
    """
    missed = {row.target: row for row in table.itertuples(index=False) if row.hit is False}
    if not missed:
        return []
    by_name = {t.name: t for t in targets}
    lines = ["", "## What the model lacks", "",
             "The misses above are not fixed by widening a range. Each mechanism below is one "
             "the model lacks, named for the targets it would move "
             "(`calibration/missing_mechanisms.toml`). Conflicts: pairs of targets that the "
             "reachability sweep's runs over the priors hit together far less often than "
             "chance (joint hits against those expected were the two independent; "
             "`sahel-sim reachability`), so no parameter value reaches both."]
    if sweep_note:
        lines += ["", f"Conflicts not shown: {sweep_note}; run `sahel-sim reachability` again."]
    covered: set[str] = set()
    for m in mechanisms:
        its_misses = [name for name in m.targets if name in missed]
        if not its_misses:
            continue
        covered.update(its_misses)
        lines += ["", f"### {m.title}", "", "Missed: " + "; ".join(
            f"{name} (median {_g(missed[name].sim_q50)}, range "
            f"{by_name[name].range_text()})" for name in its_misses) + "."]
        lines += _conflicts(pairs, set(m.targets))
        lines += ["", f"What the model does instead: {m.lacks}"]
        if m.candidates:
            lines += ["", "Candidates:"] + [f"- {c}" for c in m.candidates]
        lines += ["", f"Status: {m.status}"]
    uncovered = [name for name in missed if name not in covered]
    if uncovered:
        lines += ["", "### Misses no mechanism is named for", "",
                  ", ".join(uncovered) + ": the project has not found what the model lacks "
                  "for these."]
        lines += _conflicts(pairs, set(uncovered), among=False)
    return lines


def _conflicts(pairs: pd.DataFrame | None, names: set[str], among: bool = True) -> list[str]:
    """Conflicting pairs within `names` (among), or touching any of them (not among)."""
    if pairs is None:
        return []
    a, b = pairs["target_a"].isin(names), pairs["target_b"].isin(names)
    chosen = pairs[pairs["conflict"].astype(str).str.lower().eq("true")
                   & ((a & b) if among else (a | b))].sort_values("p_value")
    if chosen.empty:
        return ["", "Conflicts: none among these targets."]
    return ["", "Conflicts:"] + [
        f"- {r.target_a} with {r.target_b}: {int(r.joint)} runs hit both against "
        f"{r.expected:.1f} expected (of {int(r.runs)}; p {r.p_value:.1g})"
        for r in chosen.itertuples(index=False)]


def _g(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
