"""Parameter controls generated from the scenario schema (`sim.scenario.tunable_parameters`).

Each control is a text field showing the parameter's range and unit; a value is committed on
Enter or leaving the field, validated by re-loading the scenario with it, and a rejected value
stays in the field with the scenario loader's one-line message beside it.
"""


from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import solara

from sim.geography import COUNTRIES
from sim.scenario import tunable_parameters
from sim.scenario.tunable import parameter_value, unit_entry

# "Main" controls besides every faction's restraint and every junta's credibility: the levers
# and uncertainties a user reaches for first, one or two per process.
KEY_PARAMETERS = (
    "parameters.combat.engage_probability",
    "parameters.complex_attacks.rate",
    "parameters.violence.base_rate",
    "parameters.violence.contested_multiplier",
    "parameters.civilians.recruitment_rate",
    "parameters.civilians.grievance_per_death",
    "parameters.control.adjustment_days",
    "parameters.junta.coup_rate",
)
ERROR_CLASS = "sahel-param-error"


def parameter_label(dotted: str, data: dict[str, Any]) -> str:
    """A short human label: 'JNIM restraint', 'Mali junta credibility', 'engage probability'."""
    parts = dotted.split(".")
    if parts[0] == "factions":
        label = str(data["factions"][parts[1]]["label"]).split(" (")[0]
        return f"{label} {parts[2]}"
    if parts[0] == "juntas":
        return f"{COUNTRIES.get(parts[1], parts[1])} junta {parts[2]}"
    if parts[0] == "units":
        unit = unit_entry(data, dotted)
        return f"{unit['name'] if unit else parts[1]} {parts[2]}"
    return parts[-1].replace("_", " ")


def parameter_groups(data: dict[str, Any]) -> dict[str, list[str]]:
    """Tunable parameters by panel: 'main' first, then one panel per process and the rest."""
    tunable = tunable_parameters(data)
    main = [n for n in tunable if n.startswith("factions.") and n.endswith(".restraint")]
    main += [n for n in tunable if n.startswith("juntas.")]
    main += [n for n in KEY_PARAMETERS if n in tunable]
    groups: dict[str, list[str]] = {"main": main}
    for name in tunable:
        if name in main or (name.startswith("units.") and name.endswith(".share")):
            continue  # the panel sets strengths; shares are for sweeps and fits
        parts = name.split(".")
        group = (parts[1] if parts[0] == "parameters" else "order of battle"
                 if parts[0] == "units" else f"faction {parts[2]}")
        groups.setdefault(group, []).append(name)
    return groups


def format_value(value: Any) -> str:
    """A compact text for a number (0.0002 -> '0.0002', 540.0 -> '540')."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def parse_number(text: str) -> float:
    """Parse a control's text.

    Raises:
        ValueError: with a short message when the text is not a finite number.
    """
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is not a finite number")
    return value


@solara.component
def ParameterControl(name: str, label: str, info: dict[str, Any], value: Any,
                     error: str | None, on_commit: Callable[[str, str], None]) -> None:
    """One parameter: a text field with its range and unit, and its error message if any."""
    text, set_text = solara.use_state_or_update(format_value(value))

    def commit(new: str) -> None:
        set_text(new)
        on_commit(name, new)

    unit = info.get("unit") or ""
    hint = f"{format_value(info['low'])} to {format_value(info['high'])} {unit}".strip()
    with solara.Column(gap="0px", classes=["sahel-param"], style={"min-width": "0"}):
        solara.InputText(label, value=text, on_value=commit, continuous_update=False,
                         error=bool(error), message=hint, dense=True,
                         classes=[f"sahel-param-{name.replace('.', '-')}"])
        if error:
            solara.Text(error, classes=[ERROR_CLASS],
                        style={"color": "#b00020", "font-size": "12px", "line-height": "1.2",
                               "word-break": "break-word"})


@solara.component
def ParameterGrid(names: list[str], data: dict[str, Any], errors: dict[str, str],
                  on_commit: Callable[[str, str], None], columns: int = 1) -> None:
    """Controls for `names`, `columns` to a row."""
    tunable = tunable_parameters(data)
    if columns == 1:
        for name in names:
            ParameterControl(name, parameter_label(name, data), tunable[name],
                             parameter_value(data, name), errors.get(name), on_commit)
        return
    for start in range(0, len(names), columns):
        with solara.Columns([1] * columns, gutters_dense=True):
            for name in names[start:start + columns]:
                ParameterControl(name, parameter_label(name, data), tunable[name],
                                 parameter_value(data, name), errors.get(name), on_commit)


@solara.component
def CollapsibleGroup(title: str, names: list[str], data: dict[str, Any],
                     errors: dict[str, str], on_commit: Callable[[str, str], None]) -> None:
    """A group of controls behind a toggle; its fields exist only while it is open."""
    has_error = any(n in errors for n in names)
    open_, set_open = solara.use_state(has_error)
    icon = "mdi-chevron-down" if open_ else "mdi-chevron-right"
    solara.Button(f"{title} ({len(names)})", icon_name=icon, text=True, small=True,
                  on_click=lambda: set_open(not open_), classes=["sahel-group-toggle"],
                  color="error" if has_error else None,
                  style={"justify-content": "flex-start"})
    if open_:
        ParameterGrid(names, data, errors, on_commit)


@solara.component
def ParameterPanel(data: dict[str, Any], errors: dict[str, str],
                   on_commit: Callable[[str, str], None], overridden: list[str]) -> None:
    """The main controls, then every other parameter by group in collapsible panels."""
    groups = parameter_groups(data)
    solara.Markdown("A changed value restarts the run from the scenario's start date. "
                    + (f"Changed: {', '.join(f'`{n}`' for n in overridden)}."
                       if overridden else "No changes from the scenario file."),
                    style={"font-size": "13px"})
    ParameterGrid(groups.pop("main"), data, errors, on_commit)
    solara.Text("More parameters", style={"font-weight": "bold", "margin-top": "8px"})
    for title, names in groups.items():
        CollapsibleGroup(title, names, data, errors, on_commit)
