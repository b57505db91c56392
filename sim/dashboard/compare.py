"""The compare view: a baseline and a counterfactual run as a paired ensemble in the background.

It calls `sim.experiments.compare` (the engine of `sahel-sim compare`) in a thread with a
progress callback and a cancel event, so the page stays usable while runs go on; the result
shows the quantile bands of both scenarios, the bands of their paired difference, and the
headline-outcome table with the same numbers as the command line. When a posterior exists
(`sim.dashboard.posterior`), a switch runs the comparison with each pair of runs drawing its
parameters from it, as `sahel-sim compare --posterior` does.
"""


from __future__ import annotations

import base64
import hashlib
import io
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd
import reacton.ipyvuetify as v
import solara

from sim.calibration.errors import CalibrationError
from sim.code_digest import code_digest
from sim.dashboard.figures import COMPARE_SERIES, comparison_png
from sim.dashboard.posterior import modified, posterior_file, posterior_summary, shown_path
from sim.dashboard.state import default_scenario, public_message, scenario_files
from sim.experiments import (
    ComparisonResult,
    ExperimentCancelled,
    ExperimentError,
    compare,
)
from sim.experiments.executors import default_workers
from sim.experiments.reporting import (
    EVENT_HEADER,
    EVENT_NOTES,
    OUTCOME_HEADER,
    OUTCOME_NOTES,
    event_rows,
    outcome_rows,
    posterior_note,
)
from sim.scenario import ScenarioError, load_scenario

logger = logging.getLogger(__name__)

MAX_RUNS = 1000
DEFAULT_RUNS = 10
SEED_MAX = 2**63 - 1
ERROR_STYLE = {"color": "#b00020", "font-size": "12px"}
HINT_STYLE = {"font-size": "12px", "color": "#666"}
POSTERIOR_TIP = ("Run i of the baseline and of the counterfactual share a parameter draw from "
                 "the calibrated posterior, so the bands carry parameter uncertainty")


@dataclass(frozen=True, slots=True)
class CompareRequest:
    """One comparison asked for by the user (`number` tells repeated requests apart)."""

    number: int
    baseline: Path
    counterfactual: Path
    runs: int
    root_seed: int | None
    workers: int
    posterior: Path | None = None  # draw the runs' parameters from this posterior
    posterior_sha256: str = ""  # of its contents when asked (a changed file: a new folder)

    def folder(self) -> Path:
        """Where its runs are kept (the same request resumes from them after a Cancel).

        The key holds each scenario's content hash and the model's code digest, so an edited
        scenario (or one it extends) or model gets a new folder instead of a refusal to mix
        results (the folders outlive the server, in the system's temporary folder).
        """
        key = "|".join([code_digest(), str(self.baseline.resolve()),
                        str(self.counterfactual.resolve()),
                        scenario_digest(self.baseline), scenario_digest(self.counterfactual),
                        str(self.runs), str(self.root_seed), str(self.posterior),
                        self.posterior_sha256])
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / "sahel-sim-dashboard" / f"compare-{digest}"

    def command(self) -> str:
        """The equivalent command line."""
        seed = f" --seed {self.root_seed}" if self.root_seed is not None else ""
        drawn = f" --posterior={shown_path(self.posterior)}" if self.posterior else ""
        return (f"sahel-sim compare {shown_path(self.baseline)} {shown_path(self.counterfactual)} "
                f"--runs {self.runs}{drawn}{seed}")


def scenario_digest(path: Path) -> str:
    """The resolved scenario's content hash; the file's own hash if it does not load."""
    try:
        return load_scenario(path).content_hash()
    except (ScenarioError, OSError):
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


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
    finished = [0]

    def counted(done: int, failed: int, total: int) -> None:
        finished[0] = done
        progress(done, failed, total)

    try:
        result = compare(request.baseline, [request.counterfactual], request.runs,
                         root_seed=request.root_seed, workers=request.workers,
                         out=request.folder(), progress=counted, cancel=cancel, plots=False,
                         posterior=request.posterior)
    except ExperimentCancelled:
        return CompareOutcome(request, error=(
            f"cancelled: the {finished[0]} of {2 * request.runs} runs that finished are kept; "
            "Run comparison with the same settings resumes from them"))
    except (ScenarioError, ExperimentError, CalibrationError) as exc:
        return CompareOutcome(request, error=public_message(str(exc), request.baseline))
    except Exception as exc:  # the page must survive a failing experiment
        logger.exception("comparison failed")
        return CompareOutcome(request, error=f"the comparison failed: {type(exc).__name__}")
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
    shown = solara.use_reactive(cast(CompareOutcome | None, None))  # the last result
    drawn = solara.use_reactive(False)  # draw the runs' parameters from the posterior
    posterior = posterior_file({f.stem: f for f in files}.get(baseline.value or ""))
    stamp = modified(posterior)
    posterior_text, posterior_sha = solara.use_memo(lambda: posterior_summary(posterior),
                                                    [posterior, stamp])

    def job(cancel: threading.Event) -> None:
        asked = request.value
        if asked is None:
            return
        done = run_comparison(asked, cancel, lambda d, f, t: progress.set((d, f, t)))
        if request.value == asked:
            outcome.set(done)
            if done.result is not None:
                shown.set(done)

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
        use = drawn.value and bool(posterior_sha)
        request.set(CompareRequest(number, path[cast(str, baseline.value)],
                                   path[cast(str, counterfactual.value)], runs,
                                   values["root seed"], cast(int, values["workers"]),
                                   posterior if use else None, posterior_sha if use else ""))

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
        with solara.Row(gap="8px", style={"align-items": "center"}):
            tip = POSTERIOR_TIP if posterior_sha else posterior_text
            with solara.Tooltip(tip), solara.Div():
                solara.Switch(label="Draw parameters from the posterior", value=drawn,
                              disabled=running or not posterior_sha,
                              classes=["sahel-compare-posterior-switch"])
            solara.Text(posterior_text, classes=["sahel-compare-posterior-source"],
                        style=HINT_STYLE)
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
        if shown.value is not None and shown.value.result is not None:
            if running or (current is not None and current.error):
                solara.Text("Below: the last finished comparison.",
                            style={"font-size": "13px", "color": "#555"})
            ComparisonResultView(shown.value.request, shown.value.result)


def _csv(frame: Any) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


@solara.component
def ComparisonResultView(request: CompareRequest, result: ComparisonResult) -> None:
    """Bands of both scenarios and their paired difference, outcome and rare-event tables."""
    series, set_series = solara.use_state(next(iter(COMPARE_SERIES)))
    label = result.counterfactuals[0]
    png = solara.use_memo(lambda: comparison_png(result, label, series), [result, series])
    rows = outcome_rows(result).get(label, [])
    events = event_rows(result).get(label, [])
    pairs = int(result.table["runs"].iloc[0]) if not result.table.empty else 0
    first = result.divergence.get(label) if result.divergence else None
    stem = f"compare-{result.baseline}-vs-{label}"
    with solara.Card(f"{label} vs {result.baseline}: {pairs} paired runs", margin=0,
                     classes=["sahel-compare-result"]):
        solara.Text(f"Same numbers as `{request.command()}`"
                    + (f"; {result.n_failed} runs failed" if result.n_failed else ""),
                    style={"font-size": "13px", "color": "#555", "display": "block"})
        if result.posterior:
            solara.Text(public_message(posterior_note(result.posterior, paired=True)),
                        classes=["sahel-compare-posterior"],
                        style={"font-size": "14px", "display": "block"})
        if first is not None and not pd.isna(first):
            solara.Text(f"The paired runs first differ on {pd.Timestamp(first):%Y-%m-%d} "
                        "(dashed line on every plot); before that date the two scenarios are "
                        "the same runs.", classes=["sahel-compare-divergence"],
                        style={"font-size": "14px", "display": "block"})
        else:
            solara.Text("The paired runs are identical on every date: the counterfactual "
                        "changes nothing the model reached in these runs.",
                        classes=["sahel-compare-divergence"],
                        style={"font-size": "14px", "display": "block"})
        with solara.Row(gap="4px", style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.ToggleButtonsSingle(series, values=list(COMPARE_SERIES),
                                       on_value=set_series, dense=True)
            for name, data, mime in (
                    ("comparison.csv", lambda: _csv(result.table), "text/csv"),
                    ("rare_events.csv", lambda: _csv(result.rare_events), "text/csv"),
                    ("bands.png", lambda: png, "image/png")):
                with solara.FileDownload(data, filename=f"{stem}-{name}", mime_type=mime):
                    solara.Button(name, text=True, small=True, icon_name="mdi-download",
                                  classes=["sahel-compare-download-" + name.replace(".", "-")])
        solara.HTML(tag="img", attributes={
            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "alt": f"Bands of {series} in {result.baseline} and {label}, and of their "
                   "paired difference, per country", "style": "width:100%;max-width:1100px"},
            classes=["sahel-compare-bands"])
        Table(OUTCOME_HEADER, rows, "sahel-compare-table")
        solara.Text(OUTCOME_NOTES, style={"font-size": "13px", "color": "#555",
                                          "display": "block"})
        if events:
            solara.Text("Rare events: share of runs with the event",
                        style={"font-weight": "bold", "margin-top": "8px", "display": "block"})
            Table(EVENT_HEADER, events, "sahel-compare-events")
            solara.Text(EVENT_NOTES, style={"font-size": "13px", "color": "#555"})


@solara.component
def Table(header: list[str], rows: list[list[str]], css: str) -> None:
    """A plain table of formatted cells."""
    keys = [f"c{k}" for k in range(len(header))]
    headers = [{"text": text, "value": key} for text, key in zip(header, keys, strict=True)]
    items = [{"row": i, **dict(zip(keys, row, strict=True))} for i, row in enumerate(rows)]
    v.DataTable(headers=headers, items=items, item_key="row", dense=True,
                items_per_page=-1, hide_default_footer=True, disable_sort=True,
                class_=css, style_="font-size: 13px")
