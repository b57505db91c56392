"""The calibrated posterior: weighted parameter draws that runs can take their parameters from.

The calibration keeps its posterior as `calibration/posterior.csv`: one column per dotted
tunable parameter (`parameters.combat.engage_probability`, `factions.jnim.restraint`: the names
of `sim.scenario.tunable_parameters`, as `--param` takes them), a `weight` column (non-negative,
normalised on reading) and optionally a `draw` column naming each row (else a row's id is its
index, from 0). `read_posterior` checks the file (and, given a scenario, the names and bounds);
`Posterior.draw` picks rows by weight, with replacement, from a seeded numpy Generator, so the
same seed gives the same draws and the first k of n draws do not depend on n.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.errors import CalibrationError
from sim.scenario import SCENARIO_DIR, did_you_mean, tunable_parameters

WEIGHT, DRAW = "weight", "draw"
DEFAULT_POSTERIOR = Path("calibration") / "posterior.csv"
# Mixed into the seed, so that the draws are not the run's own first random numbers.
DRAW_STREAM = 0x706F7374


@dataclass(frozen=True, slots=True)
class Draw:
    """One draw: the posterior row's id, its row number (from 0) and its parameter values."""

    id: str
    row: int
    parameters: dict[str, float | int]


@dataclass(frozen=True, slots=True, eq=False)
class Posterior:
    """Weighted parameter draws read from a posterior file.

    `values` has one row per draw and one column per name in `names`; `weights` sum to 1;
    `lines` are the file's line numbers of the rows (for messages); `integer` names the
    integer parameters, whose values are rounded (known once checked against a scenario).
    """

    path: Path
    sha256: str
    names: tuple[str, ...]
    ids: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    lines: tuple[int, ...]
    integer: frozenset[str] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the weights, (sum w)^2 / sum w^2."""
        from sim.calibration.fit_result import effective_sample_size

        return effective_sample_size(self.weights)

    def describe(self) -> str:
        """'PATH (N draws, ESS x)'."""
        return f"{self.path} ({len(self)} draws, ESS {self.ess:.1f})"

    def info(self) -> dict[str, Any]:
        """What a manifest records about the posterior: file, sha256, size, ESS and names."""
        return {"path": str(self.path), "sha256": self.sha256, "draws": len(self),
                "ess": round(self.ess, 3), "parameters": list(self.names)}

    def draw(self, n: int, seed: int) -> list[Draw]:
        """`n` draws by weight, with replacement; the same seed gives the same draws.

        A row of weight 0 is never drawn. The generator is numpy's, seeded from `seed`
        (and `DRAW_STREAM`), and the first k draws do not depend on `n`.
        """
        if n < 0:
            raise ValueError(f"the number of draws must be >= 0, got {n}")
        rng = np.random.default_rng([DRAW_STREAM, int(seed)])
        cumulative = np.cumsum(self.weights)
        cumulative /= cumulative[-1]
        rows = np.searchsorted(cumulative, rng.random(n), side="right")
        return [self.row(int(r)) for r in rows]

    def row(self, index: int) -> Draw:
        """Row `index` as a draw (integers as int, the rest as float)."""
        values = {name: int(v) if name in self.integer else float(v)
                  for name, v in zip(self.names, self.values[index], strict=True)}
        return Draw(self.ids[index], index, values)

    def checked(self, scenario: Mapping[str, Any], label: str) -> Posterior:
        """This posterior checked against a scenario's data: names and bounds; integers rounded.

        Raises:
            CalibrationError: a column that is not a tunable parameter of the scenario, or a
                value outside its bounds (the file, line and column named).
        """
        known = tunable_parameters(scenario)
        for column, name in enumerate(self.names):
            if name not in known:
                raise CalibrationError(
                    f"{self.path}:1: column '{name}': not a tunable parameter of scenario "
                    f"'{label}'{did_you_mean(name, known)}; allowed: the names of `sahel-sim "
                    f"parameters`, '{WEIGHT}' and '{DRAW}'")
            low, high = known[name]["low"], known[name]["high"]
            values = self.values[:, column]
            outside = (values < low if low is not None else False) | (
                values > high if high is not None else False)
            if np.any(outside):
                bad = int(np.argmax(outside))
                raise CalibrationError(
                    f"{self.path}:{self.lines[bad]}: column '{name}': {values[bad]:g} is "
                    f"outside the parameter's bounds [{low}, {high}]")
        integer = frozenset(n for n in self.names if known[n]["integer"])
        values = self.values.copy()
        for column, name in enumerate(self.names):
            if name in integer:
                values[:, column] = np.rint(values[:, column])
        return replace(self, values=values, integer=integer)


def default_posterior_path() -> Path:
    """`calibration/posterior.csv` in the working folder, else in the project's folder.

    The project's folder is the one holding the bundled `scenarios/`.

    Raises:
        CalibrationError: neither exists.
    """
    places = list(dict.fromkeys([Path.cwd(), SCENARIO_DIR.parent]))
    for folder in places:
        if (folder / DEFAULT_POSTERIOR).is_file():
            return folder / DEFAULT_POSTERIOR
    raise CalibrationError(
        f"{DEFAULT_POSTERIOR}: no posterior in {' nor in '.join(str(p) for p in places)}; "
        "run the calibration first, or name the file: --posterior FILE")


def read_posterior(path: str | Path, scenario: Mapping[str, Any] | None = None,
                   label: str | None = None) -> Posterior:
    """Read and check a posterior file; with a scenario's data, check names and bounds too.

    Args:
        path: the CSV file.
        scenario: a scenario's data (`Scenario.model_dump(mode="json")`), or None.
        label: how messages name that scenario (default: its `name`).

    Raises:
        CalibrationError: one line naming the file, the line and the column: a missing
            `weight` column, a negative, NaN or all-zero weight, a value that is not a finite
            number, a repeated column or draw id, a row of the wrong length, and with a
            scenario a column that is not one of its tunable parameters or a value outside
            that parameter's bounds.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such posterior file") from None
    except IsADirectoryError:
        raise CalibrationError(f"{path}: is a folder, not a posterior file (CSV)") from None
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalibrationError(f"{path}: not a UTF-8 text file (byte {exc.start}); expected "
                               "a CSV with a 'weight' column") from None
    header, rows = _parse_csv(path, text)
    names = tuple(n for n in header if n not in (WEIGHT, DRAW))
    if not names:
        raise CalibrationError(f"{path}:1: no parameter columns; expected one column per "
                               "dotted parameter name (as `sahel-sim parameters` lists them) "
                               "and a 'weight' column")
    values = np.empty((len(rows), len(names)))
    weights = np.empty(len(rows))
    ids: list[str] = []
    first_line: dict[str, int] = {}
    for r, (line, cells) in enumerate(rows):
        record = dict(zip(header, cells, strict=True))
        for c, name in enumerate(names):
            values[r, c] = _number(path, line, name, record[name])
        weight = _number(path, line, WEIGHT, record[WEIGHT], finite=False)
        problem = ("is NaN" if math.isnan(weight) else "is negative" if weight < 0 else
                   "is infinite" if math.isinf(weight) else "")
        if problem:
            raise CalibrationError(f"{path}:{line}: column '{WEIGHT}': '{record[WEIGHT].strip()}'"
                                   f" {problem}; weights are finite numbers >= 0 (normalised "
                                   "on reading)")
        weights[r] = weight
        draw_id = record[DRAW].strip() if DRAW in record else str(r)
        if not draw_id:
            raise CalibrationError(f"{path}:{line}: column '{DRAW}': empty; each row needs "
                                   "its own draw id")
        if draw_id in first_line:
            raise CalibrationError(f"{path}:{line}: column '{DRAW}': '{draw_id}' again (first "
                                   f"on line {first_line[draw_id]}); draw ids must be unique")
        first_line[draw_id] = line
        ids.append(draw_id)
    total = float(weights.sum())
    if total <= 0:
        raise CalibrationError(f"{path}: column '{WEIGHT}': every weight is 0; at least one "
                               "must be positive")
    posterior = Posterior(path, hashlib.sha256(raw).hexdigest(), names, tuple(ids), values,
                          weights / total, tuple(line for line, _ in rows))
    if scenario is not None:
        posterior = posterior.checked(scenario, label or str(scenario.get("name", "scenario")))
    return posterior


def _parse_csv(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (names stripped) and the non-blank rows with their line numbers."""
    reader = csv.reader(text.splitlines(keepends=True))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                _check_header(path, reader.line_num, header)
                continue
            if len(cells) != len(header):
                raise CalibrationError(f"{path}:{reader.line_num}: {len(cells)} fields, the "
                                       f"header has {len(header)}")
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise CalibrationError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    if header is None:
        raise CalibrationError(f"{path}: empty; expected a CSV header with one column per "
                               "parameter and a 'weight' column")
    if not rows:
        raise CalibrationError(f"{path}: no draws, only a header; expected one row per draw")
    return header, rows


def _check_header(path: Path, line: int, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            raise CalibrationError(f"{path}:{line}: a column without a name; expected dotted "
                                   "parameter names, 'weight' and optionally 'draw'")
        if name in seen:
            raise CalibrationError(f"{path}:{line}: column '{name}' appears twice")
        seen.add(name)
    if WEIGHT not in seen:
        near = difflib.get_close_matches(WEIGHT, header, n=1, cutoff=0.6)
        hint = f" (rename '{near[0]}' to '{WEIGHT}'?)" if near else ""
        raise CalibrationError(f"{path}:{line}: no '{WEIGHT}' column{hint}; the posterior needs "
                               f"one column per parameter and a '{WEIGHT}' column")


def _number(path: Path, line: int, column: str, text: str, finite: bool = True) -> float:
    """A cell's number, or a one-line CalibrationError naming file, line and column."""
    try:
        value = float(text)
    except ValueError:
        shown = text.strip()
        raise CalibrationError(f"{path}:{line}: column '{column}': "
                               + (f"'{shown}' is not a number" if shown else "empty")
                               + "; expected a number") from None
    if finite and not math.isfinite(value):
        raise CalibrationError(f"{path}:{line}: column '{column}': '{text.strip()}' is not "
                               "a finite number")
    return value
