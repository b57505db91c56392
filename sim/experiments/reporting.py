"""Formatting experiment results for people: values, comparison tables, Markdown and text.

The CLI prints these tables, the dashboard shows them and experiments write them as Markdown.
Outcomes are named by their declared labels and units (`sim.outputs.OUTCOMES`), never by
parsing column names for meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.geography import COUNTRIES
from sim.outputs import OUTCOMES_BY_NAME, SERIES_BY_NAME, outcome_of

if TYPE_CHECKING:
    from sim.experiments.results import ComparisonResult

UNIT_WORDS = {"persons": "people", "count": "", "share": "", "0-1": "0-1"}
RARE_EVENT_LABELS = {"coups": "runs with a successful coup", "coup_attempts":
                     "runs with a coup attempt", "capital_attacks":
                     "runs with a complex attack on the capital"}


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


def _split(name: str) -> tuple[str, str | None]:
    """(declared name, country code or None) of a per-country name such as `coups_BFA`."""
    base, _, iso = name.rpartition("_")
    if iso in COUNTRIES and base:
        return base, iso
    return name, None


def outcome_label(name: str, unit: bool = True) -> str:
    """Plain label of a headline outcome: 'deaths, civilians: Mali (people)'."""
    outcome = outcome_of(name)
    _, iso = _split(name)
    where = COUNTRIES[iso] if iso else "all three countries"
    words = UNIT_WORDS.get(outcome.unit, outcome.unit) if unit else ""
    return f"{outcome.label}: {where}" + (f" ({words})" if words else "")


def rare_event_label(name: str) -> str:
    """Plain label of a rare event: 'runs with a successful coup: Burkina Faso'."""
    series, iso = _split(name)
    text = RARE_EVENT_LABELS.get(series)
    if text is None:
        declared = OUTCOMES_BY_NAME.get(series) or SERIES_BY_NAME.get(series)
        text = f"runs with {declared.label if declared else series}"
    return f"{text}: {COUNTRIES[iso]}" if iso else text


def _interval(name: str, low: float, high: float) -> str:
    return f"[{format_value(name, low, True)}, {format_value(name, high, True)}]"


def _share(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:.0f}%"


def _pp(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{'+' if value > 0 else ''}{100 * value:.1f} pp"


OUTCOME_HEADER = ["outcome", "baseline", "counterfactual", "median diff.", "90% interval",
                  "mean diff.", "90% interval (mean)", "sign holds", "note"]
EVENT_HEADER = ["event", "baseline", "counterfactual", "difference", "90% interval", "note"]
"""Header of `outcome_rows` (the terminal table of the headline outcomes)."""


def outcome_rows(result: ComparisonResult) -> dict[str, list[list[str]]]:
    """The headline outcomes' paired comparison formatted for people, per counterfactual."""
    out: dict[str, list[list[str]]] = {}
    for label, table in result.table.groupby("counterfactual", sort=False):
        rows = []
        for rec in table.to_dict("records"):
            name = str(rec["outcome"])
            mean = rec.get("diff_mean", np.nan)
            note = rec.get("note", "")
            rows.append([outcome_label(name), format_value(name, rec["baseline_median"]),
                         format_value(name, rec["counterfactual_median"]),
                         format_value(name, rec["diff_median"], True),
                         _interval(name, rec["diff_low"], rec["diff_high"]),
                         format_value(name, mean, True),
                         _interval(name, rec.get("mean_low", np.nan),
                                   rec.get("mean_high", np.nan)),
                         f"{rec['sign_share']:.2f}", "" if not isinstance(note, str) else note])
        out[str(label)] = rows
    return out


def event_rows(result: ComparisonResult) -> dict[str, list[list[str]]]:
    """Rare events formatted for people, per counterfactual.

    The share of runs with each event in both scenarios (Wilson) and their difference
    (Newcombe).
    """
    out: dict[str, list[list[str]]] = {}
    frame = result.rare_events
    if frame is None or frame.empty:
        return out
    for label, table in frame.groupby("counterfactual", sort=False):
        rows = []
        for rec in table.to_dict("records"):
            n = int(rec["runs"])
            rows.append([
                rare_event_label(str(rec["outcome"])),
                f"{rec['baseline_runs_with']}/{n} = {_share(rec['baseline_share'])} "
                f"[{_share(rec['baseline_low'])}, {_share(rec['baseline_high'])}]",
                f"{rec['counterfactual_runs_with']}/{n} = {_share(rec['counterfactual_share'])}"
                f" [{_share(rec['counterfactual_low'])}, {_share(rec['counterfactual_high'])}]",
                _pp(rec["share_diff"]),
                f"[{_pp(rec['share_diff_low'])}, {_pp(rec['share_diff_high'])}]",
                str(rec.get("note") or "")])
        out[str(label)] = rows
    return out


OUTCOME_NOTES = (
    "Medians over seeds; median diff. = median of the paired differences (counterfactual - "
    "baseline, same seed), with the distribution-free 90% confidence interval of that median "
    "(n/a with fewer than 5 pairs); mean diff. = mean of the paired differences, with a 90% "
    "bootstrap interval (percentile, 2,000 resamples, seeded); sign holds = share of seeds "
    "whose difference has the median's sign. A zero effect is reported as zero with its "
    "interval; the note says when every pair was identical, or when no run of either "
    "scenario reached the mechanism (the outcome was zero in all of them).")
EVENT_NOTES = (
    "Rare events: runs with the event out of the paired runs, its share with a 90% Wilson "
    "interval; difference = counterfactual share - baseline share, with Newcombe's 90% "
    "interval for paired proportions.")


def posterior_note(posterior: Mapping[str, Any] | None, paired: bool = False) -> str:
    """The sentence saying that runs drew their parameters from a posterior ('' if not).

    Args:
        posterior: a result's `posterior` (`Posterior.info()`), or None.
        paired: say that run i of every scenario shares its draw (comparisons).
    """
    if not posterior:
        return ""
    shared = (" Run i of every scenario uses the same draw (and seed)." if paired else "")
    kept = "".join(f" {label} keeps its own " + ", ".join(f"{name} = {value}" for name, value
                                                            in values.items()) + "."
                   for label, values in posterior.get("kept", {}).items())
    return (f"Parameters drawn from {posterior['path']} ({posterior['draws']} draws, ESS "
            f"{posterior['ess']:.1f}), one draw per run by weight, so the bands carry "
            f"parameter uncertainty as well as chance.{shared}{kept}")


def comparison_markdown(result: ComparisonResult) -> str:
    """The comparison as Markdown: per counterfactual, the outcome and rare-event tables."""
    note = posterior_note(result.posterior, paired=True)
    parts = [note + "\n"] if note else []
    events = event_rows(result)
    for label, rows in outcome_rows(result).items():
        sub = result.table.loc[result.table["counterfactual"] == label]
        n = int(sub["runs"].iloc[0])
        parts.append(f"## {label} vs {result.baseline} ({n} paired runs)\n")
        first = result.divergence.get(label) if result.divergence else None
        parts.append("The paired runs first differ on "
                     f"{pd.Timestamp(first):%Y-%m-%d}.\n" if first is not None and
                     not pd.isna(first) else "The paired runs are identical on every date.\n")
        parts.append(_markdown(OUTCOME_HEADER, rows))
        if events.get(label):
            parts.append(_markdown(EVENT_HEADER, events[label]))
    return "\n".join(parts) + "\n" + OUTCOME_NOTES + "\n\n" + EVENT_NOTES + "\n"


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
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])
