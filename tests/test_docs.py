"""docs/ODD.md matches the code: every function and class member it names exists, every
parameter table row is current, every process of the step and every mechanics module is
described in order, every numba kernel is explained and every declared series is listed."""

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys

import pytest
from numba.core.dispatcher import Dispatcher

import sim
from sim import agents, ledger, model, outputs, tables, world
from sim.scenario import iter_parameter_names

from .conftest import ROOT

ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
CLASSES = {"SahelModel": model.SahelModel, "Junta": agents.Junta,
           "ForceUnit": agents.ForceUnit, "CivilianCommunity": agents.CivilianCommunity,
           "Ledger": ledger.Ledger, "World": world.World, "Recorder": tables.Recorder}
# Dotted names anywhere in the text (prose too), not preceded by a path or a word.
MODULE_NAME = re.compile(r"(?<![\w/.-])sim(?:\.\w+)+")
MEMBER_NAME = re.compile(rf"(?<![\w.])({'|'.join(CLASSES)})\.(\w+)")
MECHANICS = sorted(p.stem for p in (ROOT / "sim" / "mechanics").glob("*.py")
                   if p.stem != "__init__")
_MISSING = object()


def section(number: str) -> str:
    """The text of section `number` of the ODD (from its heading to the next one)."""
    start = ODD.index(f"\n## {number}. ")
    end = ODD.find("\n## ", start + 1)
    return ODD[start:end if end >= 0 else len(ODD)]


def resolve(dotted: str) -> object:
    """The object a dotted name such as `sim.streams.RandomStreams.get` refers to."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if not f"{name}.".startswith(f"{error.name}."):  # a module failing to import
                raise
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def has_member(cls: type, attr: str) -> bool:
    """A class attribute, or an attribute its own code (or a sim base's) assigns to `self`."""
    if hasattr(cls, attr):
        return True
    assigned = re.compile(rf"\bself\.{attr}\s*(?::[^=\n]+)?=[^=]")
    return any(assigned.search(inspect.getsource(k)) for k in cls.__mro__
               if k.__module__.startswith("sim"))


def test_every_named_function_and_member_exists():
    modules = set(MODULE_NAME.findall(ODD))
    members = set(MEMBER_NAME.findall(ODD))
    assert len(modules) > 60 and len(members) > 20
    missing = [name for name in sorted(modules) if resolve(name) is _MISSING]
    missing += [f"{cls}.{attr}" for cls, attr in sorted(members)
                if not has_member(CLASSES[cls], attr)]
    assert not missing, f"the ODD names what the code does not have: {missing}"


def test_the_resolvers_reject_what_does_not_exist():
    assert resolve("sim.mechanics.combat.engage") is not _MISSING
    assert resolve("sim.streams.RandomStreams.get") is not _MISSING
    assert resolve("sim.mechanics.civilians.flight") is _MISSING
    assert resolve("sim.mechanics.combat.resolve_engagements") is _MISSING
    assert has_member(agents.Junta, "credibility") and has_member(world.World, "residents")
    assert not has_member(model.SahelModel, "_decide")
    assert not has_member(agents.Junta, "offensive_share")


def test_every_parameter_is_documented_with_current_values():
    tables = subprocess.run([sys.executable, str(ROOT / "scripts" / "odd_tables.py")],
                            capture_output=True, text=True, check=True).stdout
    rows = [line for line in tables.splitlines() if line.startswith("| `")]
    assert len(rows) == len(list(iter_parameter_names()))
    for row in rows:
        assert row in ODD, f"ODD table row out of date: {row}"
    documented = [line for line in ODD.splitlines()
                  if re.match(r"\| `\w+\.\w+` \|", line)]
    assert sorted(documented) == sorted(rows), "the ODD has parameter rows the schema lacks"


@pytest.mark.parametrize("integer", ["decisions.interval_days", "decisions.field_box_cells",
                                     "control.reach_cells"])
def test_integer_parameters_and_sources_are_in_the_tables(integer):
    row = next(line for line in ODD.splitlines() if line.startswith(f"| `{integer}` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].isdigit() and cells[3].endswith("(integer)") and cells[5] == "assumption"
    sourced = next(line for line in ODD.splitlines()
                   if line.startswith("| `complex_attacks.median_killed` |"))
    assert sourced.rstrip(" |").endswith("(FACTS A)")


def test_every_process_of_the_step_is_in_the_overview_in_order():
    called = re.findall(r"(\w+)\.act\(", inspect.getsource(model.SahelModel.simulate_day))
    assert len(called) >= 12
    overview = section("3")
    listed = re.findall(r"`sim\.mechanics\.(\w+)\.act`", overview)
    assert set(listed) == set(called), "the overview's processes differ from the day's"
    positions = [overview.index(f"`sim.mechanics.{name}.act`") for name in called]
    assert positions == sorted(positions), "the overview's order differs from the day's"
    for name in called:
        assert f"`sim.mechanics.{name}.act`" in ODD


def test_every_mechanics_module_has_a_submodel():
    assert "victims" in MECHANICS and "scenario_events" in MECHANICS
    headings = [line for line in section("7").splitlines() if line.startswith("### ")]
    for name in MECHANICS:
        assert any(f"`sim.mechanics.{name}." in h for h in headings), f"no subsection: {name}"


def jitted_kernels() -> list[str]:
    """Public numba kernels defined in sim's modules and sim.mechanics."""
    names = [f"sim.{m.name}" for m in pkgutil.iter_modules(sim.__path__) if not m.ispkg]
    names += [f"sim.mechanics.{m}" for m in MECHANICS]
    kernels = []
    for name in names:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if (isinstance(obj, Dispatcher) and not attr.startswith("_")
                    and obj.py_func.__module__ == name):
                kernels.append(f"{name}.{attr}")
    return kernels


def test_every_numba_kernel_is_explained_in_the_implementation_note():
    kernels = jitted_kernels()
    assert "sim.mechanics.combat.engage" in kernels and "sim.streams.poisson" in kernels
    note = section("10")
    missing = [k for k in kernels if f"`{k}`" not in note]
    assert not missing, f"kernels missing from the implementation note: {missing}"


def test_every_declared_series_is_listed_in_the_outputs():
    out = section("8")
    for series in outputs.SERIES:
        name = f"`{series.name}_<" if series.over else f"`{series.name}`"
        assert name in out, f"series {series.name} is not in section 8"
