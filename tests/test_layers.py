"""Layers, not circles: the import graph of the `sim` package has no cycles, and the dashboard
does not depend on the command line.

The graph is read with `ast` from the source: every `import` and `from ... import` of a `sim`
module anywhere in a module (at the top, inside functions, under `if TYPE_CHECKING:`). A
package's `__init__.py` is the package itself (`sim.scenario`); `from sim.x import name` is an
edge to the module `sim.x.name` if there is one, else to `sim.x`.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "sim"

# Cycles tolerated, each with its reason: (module, module) -> why. None today.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    """Dotted name of a module file under the package (`__init__.py` is the package)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the `sim` modules it imports (anywhere in its source)."""
    files = {module_name(p): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(_known(alias.name, files) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, name, is_package)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in files else _known(base, files))
        graph[name] = {t for t in targets if t and t != name and t.split(".")[0] == "sim"}
    return graph


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()
    parts = parts[:len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _known(name: str, files: Mapping[str, Path]) -> str:
    """The longest prefix of a dotted name that is a module of the package ('' if none)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in files:
        parts.pop()
    return ".".join(parts)


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def shortest_path(graph: Mapping[str, Iterable[str]], start: str, goal: str,
                  within: set[str] | None = None) -> list[str] | None:
    """Modules on a shortest import chain from `start` to `goal` (both included), or None."""
    seen = {start: ""}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph.get(v, ())):
            if within is not None and w not in within:
                continue
            if w == goal:
                path = [w, v]
                while seen[path[-1]]:
                    path.append(seen[path[-1]])
                return path[::-1]
            if w not in seen:
                seen[w] = v
                queue.append(w)
    return None


def cycles(graph: Mapping[str, Iterable[str]],
           allowed: Iterable[frozenset[str]] = ()) -> list[list[str]]:
    """One shortest cycle (first module repeated at the end) per circle not allowed."""
    allowed = set(allowed)
    found = []
    for component in strongly_connected(graph):
        if frozenset(component) in allowed:
            continue
        members = set().union(*(m for m in allowed if m <= component))
        start = min(component - members or component)
        path = shortest_path(graph, start, start, within=component)
        assert path is not None
        found.append(path)
    return found


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "sim.scenario" in graph and "sim.scenario.loading" in graph  # packages and modules
    assert "sim.geography" in graph["sim.scenario.loading"]  # inside a function
    assert "sim.experiments.prepared" in graph["sim.experiments.result_store"]  # TYPE_CHECKING
    assert "sim.cli.model" in graph["sim.cli"]


def test_cycles_are_found_and_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert cycles(graph, [frozenset({"e", "f"})]) == [["a", "b", "c", "a"]]


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph, ALLOWED_CYCLES)
    circles = [sorted(c) for c in strongly_connected(graph) if frozenset(c) not in ALLOWED_CYCLES]
    assert not found, ("import cycles: " + "; ".join(" -> ".join(c) for c in found)
                       + " (modules in each circle: "
                       + "; ".join(", ".join(c) for c in circles) + ")")


def test_dashboard_does_not_import_the_cli():
    graph = import_graph()
    for module in sorted(m for m in graph if m == "sim.dashboard" or
                         m.startswith("sim.dashboard.")):
        for target in sorted(m for m in graph if m == "sim.cli" or m.startswith("sim.cli.")):
            path = shortest_path(graph, module, target)
            assert path is None, f"{module} imports the CLI: {' -> '.join(path)}"
