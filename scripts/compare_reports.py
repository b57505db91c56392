"""Which targets several calibrations hit: the reports' `hit` columns side by side.

Run: .venv/bin/python scripts/compare_reports.py LABEL=report.csv [LABEL=report.csv ...]
     [--markdown FILE]

Each argument names one calibration's `report.csv` (written by `sahel-sim
calibration-report`) with a label. The script prints, per target, whether each report's
median lies in the sourced range (1) or not (0), the number of reports that hit it, then each
report's count and the targets no report hits and every report hits. A target a report did
not compare (no simulated median, e.g. a window outside the simulated period) is `-` in that
report's column and counts as a miss for nobody; a target no report compared is left out.
`--markdown FILE` also writes the table as Markdown.

What it is for: one calibration's count moves by about three from one run of the same inputs
to the next (docs/CALIBRATION.md), so whether a target is out of reach is better judged over
several calibrations: a target no calibration hits names a missing mechanism, not noise.
Bad input (a missing file, a file without the report's columns, a target listed twice, a
label used twice or reserved, a Markdown path in no folder) is one line on stderr naming the
argument, and exit 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

REQUIRED = ("target", "sim_q50", "hit")
RESERVED = ("hits",)  # the table's own column


class ReportError(ValueError):
    """An argument that does not name a readable report."""


def read_hits(argument: str) -> tuple[str, pd.Series]:
    """`LABEL=path` -> (label, 1/0 per compared target, indexed by target)."""
    label, sep, path = argument.partition("=")
    if not sep or not label or not path:
        raise ReportError(f"{argument}: expected LABEL=path/to/report.csv")
    file = Path(path)
    if not file.is_file():
        raise ReportError(f"{argument}: no such file {file}")
    try:
        frame = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReportError(f"{file}: not a CSV report ({type(exc).__name__})") from exc
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing:
        raise ReportError(f"{file}: column(s) {', '.join(missing)} missing; a report.csv of "
                          f"`sahel-sim calibration-report` has {', '.join(REQUIRED)}")
    compared = frame[frame["sim_q50"].notna()]
    twice = compared.loc[compared["target"].duplicated(), "target"].tolist()
    if twice:
        raise ReportError(f"{file}: target {twice[0]} is listed twice")
    text = compared["hit"].astype(str).str.lower()
    bad = compared.loc[~text.isin(["true", "false"]), "target"].tolist()
    if bad:
        raise ReportError(f"{file}: hit of {bad[0]} is not true or false")
    return label, pd.Series((text == "true").astype(int).to_numpy(),
                            index=compared["target"].to_numpy(), name=label)


def hit_table(reports: Sequence[tuple[str, pd.Series]]) -> pd.DataFrame:
    """Targets x reports (1 hit, 0 miss, NaN not compared) and `hits`, fewest hits first."""
    labels = [label for label, _ in reports]
    reserved = [label for label in labels if label in RESERVED]
    if reserved:
        raise ReportError(f"{reserved[0]}=...: the label is reserved; use another")
    if len(set(labels)) != len(labels):
        twice = next(label for label in labels if labels.count(label) > 1)
        raise ReportError(f"{twice}=...: the label is used twice; give each report its own")
    table = pd.concat([hits for _, hits in reports], axis=1)
    table["hits"] = table.sum(axis=1).astype(int)
    return table.sort_values("hits", kind="stable")  # ties keep the order first seen


def summary_lines(table: pd.DataFrame) -> list[str]:
    """Each report's count, then the targets no report and every report hits."""
    reports = [column for column in table.columns if column != "hits"]
    lines = [f"{label}: {int(table[label].sum())} of {int(table[label].notna().sum())} "
             "medians in range" for label in reports]
    never = table.index[table["hits"] == 0].tolist()  # missed by each report comparing it
    always = table.index[table["hits"] == len(reports)].tolist()
    lines.append(f"hit by no report ({len(never)}): {', '.join(never) or 'none'}")
    lines.append(f"hit by every report ({len(always)}): {', '.join(always) or 'none'}")
    return lines


def as_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown: 1/0 per report, `-` where a report did not compare the target."""
    columns = list(table.columns)
    rows = ["| target | " + " | ".join(columns) + " |",
            "|---|" + "---:|" * len(columns)]
    for target, row in table.iterrows():
        cells = ["-" if pd.isna(value) else str(int(value)) for value in row]
        rows.append(f"| {target} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print (and with --markdown write) the hit table; 0, or 2 on bad input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", metavar="LABEL=report.csv")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args(argv)
    if args.markdown and not args.markdown.resolve().parent.is_dir():
        print(f"compare_reports: --markdown {args.markdown}: no folder "
              f"{args.markdown.resolve().parent}", file=sys.stderr)
        return 2
    try:
        table = hit_table([read_hits(argument) for argument in args.reports])
    except ReportError as exc:
        print(f"compare_reports: {exc}", file=sys.stderr)
        return 2
    shown = table.astype("Int64").astype(object).where(table.notna(), "-")
    print(shown.to_string())
    print("\n".join(summary_lines(table)))
    if args.markdown:
        args.markdown.write_text(as_markdown(table), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
