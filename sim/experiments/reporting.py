"""Formatting experiment results for people: values, comparison tables, Markdown and text.

The CLI prints these tables, the dashboard shows them and experiments write them as Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.outputs import outcome_of

if TYPE_CHECKING:
    from sim.experiments.results import ComparisonResult


def format_value(outcome: str, value: float, signed: bool = False) -> str:
    """A headline outcome's value for people: shares in %, counts with separators."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "+" if signed and value > 0 else ""
    if outcome_of(outcome).unit == "share":
        unit = " pp" if signed else "%"
        return f"{sign}{100 * value:.1f}{unit}"
    if abs(value) >= 100 or abs(value - round(value)) < 1e-9:
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:,.1f}"


def comparison_rows(result: ComparisonResult) -> dict[str, list[list[str]]]:
    """The comparison table formatted for people, per counterfactual."""
    out: dict[str, list[list[str]]] = {}
    for label, table in result.table.groupby("counterfactual", sort=False):
        rows = []
        for rec in table.itertuples(index=False):
            name = str(rec.outcome)
            interval = (f"[{format_value(name, rec.diff_low, True)}, "
                        f"{format_value(name, rec.diff_high, True)}]")
            rows.append([name, format_value(name, rec.baseline_median),
                         format_value(name, rec.counterfactual_median),
                         format_value(name, rec.diff_median, True), interval,
                         f"{rec.sign_share:.2f}"])
        out[str(label)] = rows
    return out


COMPARISON_HEADER = ["outcome", "baseline", "counterfactual", "difference", "90% interval",
                     "sign holds"]


def comparison_markdown(result: ComparisonResult) -> str:
    """The comparison as Markdown: one table per counterfactual."""
    parts = []
    for label, rows in comparison_rows(result).items():
        n = int(result.table.loc[result.table["counterfactual"] == label, "runs"].iloc[0])
        parts.append(f"## {label} vs {result.baseline} ({n} paired runs)\n")
        parts.append(_markdown(COMPARISON_HEADER, rows))
    notes = ("Medians over seeds; difference = median of paired differences (counterfactual - "
             "baseline, same seed); 90% interval = distribution-free confidence interval of "
             "that median; sign holds = share of seeds whose difference has its sign.\n")
    return "\n".join(parts) + "\n" + notes


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a Markdown table (numbers with `digits` significant digits)."""
    rows = [[f"{v:.{digits}g}" if isinstance(v, float) else str(v) for v in rec]
            for rec in frame.itertuples(index=False)]
    return _markdown([str(c) for c in frame.columns], rows)


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def text_table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """A plain-text table for the terminal: the first `left` columns left-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(f"{c:<{w}}" if i < left else f"{c:>{w}}"
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), *(line(r) for r in rows)])
