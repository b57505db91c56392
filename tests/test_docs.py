"""docs/ODD.md matches the code: every function it names exists, every parameter table row is
current, every process of the step is described."""

import importlib
import re
import subprocess
import sys

from sim import agents, model
from sim.scenario import iter_parameter_names

from .conftest import ROOT

ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
CLASSES = {"SahelModel": model.SahelModel, "Junta": agents.Junta,
           "ForceUnit": agents.ForceUnit, "CivilianCommunity": agents.CivilianCommunity}


def test_every_named_function_exists():
    named = set(re.findall(r"`((?:sim\.[\w.]+)|(?:(?:SahelModel|Junta|ForceUnit)\.\w+))", ODD))
    assert len(named) > 30
    for name in named:
        if name.startswith("sim."):
            module, _, attr = name.rpartition(".")
            try:
                target = importlib.import_module(name)
            except ModuleNotFoundError:
                target = getattr(importlib.import_module(module), attr, None)
            assert target is not None, name
        else:
            cls, attr = name.split(".")
            assert hasattr(CLASSES[cls], attr), name


def test_every_parameter_is_documented_with_current_values():
    tables = subprocess.run([sys.executable, str(ROOT / "scripts" / "odd_tables.py")],
                            capture_output=True, text=True, check=True).stdout
    rows = [line for line in tables.splitlines() if line.startswith("| `")]
    assert len(rows) == len(list(iter_parameter_names()))
    for row in rows:
        assert row in ODD, f"ODD table row out of date: {row}"


def test_every_step_process_is_in_the_odd():
    source = (ROOT / "sim" / "model.py").read_text()
    step = source[source.index("    def step(self)"):source.index("    def run(self")]
    for call in re.findall(r"self\.(_\w+)\(", step):
        assert f"SahelModel.{call}" in ODD, call
