"""Print the ODD's parameter tables from the scenario schema (the single source of truth).

Usage:
    .venv/bin/python scripts/odd_tables.py [GROUP]   print the tables (of one group)
    .venv/bin/python scripts/odd_tables.py --write   replace the tables in docs/ODD.md

Each row gives the parameter, its default, unit, range (integer parameters say so), meaning
and source (the basis of its default, `assumption` where there is none yet).
tests/test_docs.py checks that every row printed here stands in the ODD verbatim.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sim.scenario import iter_parameter_names, tunable_parameters

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
HEADER = "| parameter | default | unit | range | meaning | source |\n|---|---|---|---|---|---|"


def number(value: float, integer: bool) -> str:
    """A default or bound as written in the table: integers exactly, floats compactly."""
    return str(int(value)) if integer else f"{value:g}"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def table_rows(group: str | None = None) -> dict[str, list[str]]:
    """Markdown table rows of each parameter group, keyed by group."""
    spec = tunable_parameters({})
    groups: dict[str, list[str]] = {}
    for g, name in iter_parameter_names():
        if group and g != group:
            continue
        p = spec[f"parameters.{g}.{name}"]
        integer = bool(p["integer"])
        span = f"{number(p['low'], integer)} to {number(p['high'], integer)}"
        if integer:
            span += " (integer)"
        groups.setdefault(g, []).append(
            f"| `{g}.{name}` | {number(p['default'], integer)} | {cell(p['unit'])} | {span} | "
            f"{cell(p['description'])} | {cell(p['source'] or 'assumption')} |")
    if group and not groups:
        raise SystemExit(f"no parameter group {group!r}")
    return groups


def body(rows: list[str]) -> str:
    """A table: the header and the rows."""
    return f"{HEADER}\n" + "\n".join(rows) + "\n"


def table(group: str, rows: list[str]) -> str:
    """The block of one group: its title line and table."""
    return f"Parameters (`parameters.{group}`):\n\n" + body(rows)


def write(path: Path = ODD) -> None:
    """Replace each group's table in the ODD in place.

    A table is the lines starting with `|` after a title line that starts with "Parameters" and
    ends with "(`parameters.GROUP`):" and a blank line; the title is kept.
    """
    text = path.read_text(encoding="utf-8")
    for group, rows in table_rows().items():
        block = re.compile(rf"^(Parameters[^\n]*\(`parameters\.{group}`\):\n\n)(?:\|.*\n)+",
                           re.MULTILINE)
        text, found = block.subn(lambda m, r=rows: m.group(1) + body(r), text)
        if found != 1:
            raise SystemExit(f"{path}: expected one table of parameters.{group}, found {found}")
    path.write_text(text, encoding="utf-8")


def main() -> None:
    """Print the tables, or write them into the ODD with --write."""
    args = sys.argv[1:]
    if args == ["--write"]:
        write()
        return
    for group, rows in table_rows(args[0] if args else None).items():
        print(table(group, rows))


if __name__ == "__main__":
    main()
