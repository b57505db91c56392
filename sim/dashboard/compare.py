"""The compare view: a baseline and a counterfactual run as a paired ensemble in the background.

It calls `sim.experiments.compare` (the engine of `sahel-sim compare`) in a thread with a
progress callback and a cancel event, so the page stays usable while runs go on; the result
shows the quantile bands of both scenarios, the bands of their paired difference, and the
headline-outcome table with the same numbers as the command line.
"""


from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import reacton.ipyvuetify as v
import solara

from sim.dashboard.figures import COMPARE_SERIES, comparison_png
from sim.dashboard.state import default_scenario, scenario_files
from sim.experiments import (
    ComparisonResult,
    ExperimentCancelled,
    ExperimentError,
    compare,
)
from sim.experiments.executors import default_workers
from sim.experiments.reporting import COMPARISON_HEADER, comparison_rows
from sim.scenario import ScenarioError, load_scenario

logger = logging.getLogger(__name__)

MAX_RUNS = 1000
DEFAULT_RUNS = 10
SEED_MAX = 2**63 - 1
ERROR_STYLE = {"color": "#b00020", "font-size": "12px"}


@dataclass(frozen=True, slots=True)
class CompareRequest:
    """One comparison asked for by the user (`number` tells repeated requests apart)."""

    number: int
    baseline: Path
    counterfactual: Path
    runs: int
    root_seed: int | None
    workers: int

    def command(self) -> str:
        """The equivalent command line."""
        seed = f" --seed {self.root_seed}" if self.root_seed is not None else ""
        return (f"sahel-sim compare {_shown(self.baseline)} {_shown(self.counterfactual)} "
                f"--runs {self.runs}{seed}")


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True, slots=True)
class CompareOutcome:
    """What came of a request: a result, or a one-line error (or a cancellation)."""

    request: CompareRequest
    result: ComparisonResult | None = None
    error: str | None = None


def parse_int(text: str, name: str, low: int, high: int, blank: int | None = None
              ) -> int | None:
    """An integer field's value; `blank` for an empty field.

    Raises:
        ValueError: a one-line message naming the field and the allowed range.
    """
    text = text.strip()
    if not text:
        if blank is None and low > 0:
            raise ValueError(f"{name}: required; allowed {low} to {high}")
        return blank
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}: '{text}' is not an integer; allowed {low} to {high}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is out of range; allowed {low} to {high}")
    return value


def scenario_period(path: Path) -> str:
    """'start to end' of a scenario file, or why it cannot be read."""
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        return f"invalid: {exc}"
    return f"{scenario.start} to {scenario.end}"


def run_comparison(request: CompareRequest, cancel: threading.Event,
                   progress: Any) -> CompareOutcome:
    """Run `sim.experiments.compare` for a request; errors become a one-line message."""
    try:
        result = compare(request.baseline, [request.counterfactual], request.runs,
                         root_seed=request.root_seed, workers=request.workers,
                         progress=progress, cancel=cancel)
    except ExperimentCancelled:
        return CompareOutcome(request, error="cancelled; start again to rerun")
    except (ScenarioError, ExperimentError) as exc:
        return CompareOutcome(request, error=str(exc))
    except Exception as exc:  # the page must survive a failing experiment
        logger.exception("comparison failed")
        return CompareOutcome(request, error=f"the comparison failed: {exc!r}")
    if result.table.empty:
        failures = "; ".join(sorted({str(f["error"]) for f in result.failures.values()}))
        return CompareOutcome(request, error=f"no paired runs finished ({failures})")
    return CompareOutcome(request, result=result)


@solara.component
def CompareView() -> None:
    """Pick a baseline, a counterfactual and a number of runs; run; see bands and the table."""
    files = solara.use_memo(scenario_files, [])
    stems = [f.stem for f in files]
    periods = solara.use_memo(lambda: {f.stem: scenario_period(f) for f in files}, [])
    first = default_scenario(files)
    base_default = first.stem if first else None
    other_default = next((s for s in stems if s != base_default
                          and periods[s] == periods.get(base_default or "")), None)
    baseline = solara.use_reactive(base_default)
    counterfactual = solara.use_reactive(other_default)
    runs_text = solara.use_reactive(str(DEFAULT_RUNS))
    seed_text = solara.use_reactive("")
    workers_text = solara.use_reactive(str(min(4, default_workers())))
    field_errors = solara.use_reactive(cast(dict[str, str], {}))
    request = solara.use_reactive(cast(CompareRequest | None, None))
    progress = solara.use_reactive((0, 0, 0))
    outcome = solara.use_reactive(cast(CompareOutcome | None, None))

    def job(cancel: threading.Event) -> None:
        asked = request.value
        if asked is None:
            return
        done = run_comparison(asked, cancel, lambda d, f, t: progress.set((d, f, t)))
        if request.value == asked:
            outcome.set(done)

    thread = solara.use_thread(job, dependencies=[request.value], intrusive_cancel=False)
    running = request.value is not None and (
        outcome.value is None or outcome.value.request != request.value)

    def start() -> None:
        errors: dict[str, str] = {}
        values: dict[str, int | None] = {}
        for name, text, low, high in (("runs", runs_text.value, 1, MAX_RUNS),
                                      ("root seed", seed_text.value, 0, SEED_MAX),
                                      ("workers", workers_text.value, 1, default_workers())):
            try:
                values[name] = parse_int(text, name, low, high)
            except ValueError as exc:
                errors[name] = str(exc)
        path = {f.stem: f for f in files}
        if baseline.value not in path or counterfactual.value not in path:
            errors["scenarios"] = "choose a baseline and a counterfactual"
        elif baseline.value == counterfactual.value:
            errors["scenarios"] = "the counterfactual must differ from the baseline"
        field_errors.set(errors)
        if errors:
            return
        number = (request.value.number + 1) if request.value else 1
        runs = cast(int, values["runs"])
        progress.set((0, 0, 2 * runs))
        outcome.set(None)
        request.set(CompareRequest(number, path[cast(str, baseline.value)],
                                   path[cast(str, counterfactual.value)], runs,
                                   values["root seed"], cast(int, values["workers"])))

    errors = field_errors.value
    with solara.Column(gap="10px", style={"padding": "8px 12px"}, classes=["sahel-compare"]):
        solara.Markdown(
            "Runs the baseline and the counterfactual with the same seeds (common random "
            "numbers) and compares them seed by seed, exactly as `sahel-sim compare`. "
            "Both scenarios must cover the same period.", style={"font-size": "13px"})
        with solara.Row(gap="16px", style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            for label, reactive, css in (("Baseline", baseline, "sahel-compare-baseline"),
                                         ("Counterfactual", counterfactual,
                                          "sahel-compare-counterfactual")):
                with solara.Column(gap="0px", style={"width": "260px"}):
                    solara.Select(label, values=stems, value=reactive, classes=[css],
                                  disabled=running)
                    solara.Text(periods.get(reactive.value or "", ""),
                                style={"font-size": "12px", "color": "#666"})
            for label, reactive, key, hint in (
                    ("Runs", runs_text, "runs", f"seeds per scenario, 1 to {MAX_RUNS}"),
                    ("Root seed", seed_text, "root seed", "blank: the baseline's seed"),
                    ("Workers", workers_text, "workers",
                     f"processes, 1 to {default_workers()}")):
                with solara.Column(gap="0px", style={"width": "170px"}):
                    solara.InputText(label, value=reactive, continuous_update=True,
                                     error=key in errors, message=hint, dense=True,
                                     disabled=running,
                                     classes=[f"sahel-compare-{key.replace(' ', '-')}"])
                    if key in errors:
                        solara.Text(errors[key], classes=["sahel-param-error"],
                                    style=ERROR_STYLE)
            if running:
                solara.Button("Cancel", icon_name="mdi-stop", on_click=thread.cancel,
                              outlined=True, classes=["sahel-compare-cancel"])
            else:
                solara.Button("Run comparison", icon_name="mdi-play", on_click=start,
                              color="primary", classes=["sahel-compare-run"])
        if "scenarios" in errors:
            solara.Text(errors["scenarios"], classes=["sahel-param-error"], style=ERROR_STYLE)
        if running:
            done, failed, total = progress.value
            solara.Text(f"{done} of {total} runs done" + (f", {failed} failed" if failed else "")
                        + " - the page stays usable; the Explore tab works meanwhile.",
                        classes=["sahel-compare-progress"])
            solara.ProgressLinear(100.0 * done / total if total else True)
        current = outcome.value
        if current is not None and current.error:
            solara.Error(current.error, classes=["sahel-compare-error"])
        if current is not None and current.result is not None:
            ComparisonResultView(current.request, current.result)


@solara.component
def ComparisonResultView(request: CompareRequest, result: ComparisonResult) -> None:
    """Bands of both scenarios and of the paired difference, and the headline-outcome table."""
    series, set_series = solara.use_state(next(iter(COMPARE_SERIES)))
    label = result.counterfactuals[0]
    png = solara.use_memo(lambda: comparison_png(result, label, series), [result, series])
    rows = comparison_rows(result).get(label, [])
    pairs = int(result.table["runs"].iloc[0]) if not result.table.empty else 0
    with solara.Card(f"{label} vs {result.baseline}: {pairs} paired runs", margin=0,
                     classes=["sahel-compare-result"]):
        solara.Text(f"Same numbers as `{request.command()}`"
                    + (f"; {result.n_failed} runs failed" if result.n_failed else ""),
                    style={"font-size": "12px", "color": "#555"})
        solara.ToggleButtonsSingle(series, values=list(COMPARE_SERIES), on_value=set_series,
                                   dense=True)
        solara.Image(png, width="100%", classes=["sahel-compare-bands"])
        keys = ["outcome", "baseline", "counterfactual", "difference", "interval", "sign"]
        headers = [{"text": text, "value": key}
                   for text, key in zip(COMPARISON_HEADER, keys, strict=True)]
        items = [dict(zip(keys, row, strict=True)) for row in rows]
        v.DataTable(headers=headers, items=items, item_key="outcome", dense=True,
                    items_per_page=-1, hide_default_footer=True, disable_sort=True,
                    class_="sahel-compare-table", style_="font-size: 12px")
        solara.Text("Medians over seeds; difference = median of the paired differences "
                    "(counterfactual - baseline, same seed); 90% interval = distribution-free "
                    "confidence interval of that median (n/a with fewer than 5 pairs); sign "
                    "holds = share of seeds whose difference has its sign.",
                    style={"font-size": "12px", "color": "#555"})
