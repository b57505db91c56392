"""Print the ODD's parameter tables from the scenario schema (the single source of truth).

Usage: .venv/bin/python scripts/odd_tables.py [GROUP]  -- paste the output into docs/ODD.md;
tests/test_docs.py checks that every row printed here stands in the ODD verbatim.
"""

from __future__ import annotations

import sys

from sim.scenario import Parameters, iter_parameter_names


def table_rows(group: str | None = None) -> dict[str, list[str]]:
    """Markdown table rows of each parameter group, keyed by group."""
    groups: dict[str, list[str]] = {}
    for g, name in iter_parameter_names():
        if group and g != group:
            continue
        field = Parameters.model_fields[g].annotation.model_fields[name]  # type: ignore[union-attr]
        lo = hi = None
        for meta in field.metadata:
            lo = getattr(meta, "ge", lo)
            hi = getattr(meta, "le", hi)
        unit = (field.json_schema_extra or {}).get("unit", "")
        groups.setdefault(g, []).append(
            f"| `{g}.{name}` | {field.default:g} | {unit} | {lo:g} to {hi:g} | "
            f"{field.description} |")
    return groups


def main() -> None:
    """Print the tables."""
    for group, rows in table_rows(sys.argv[1] if len(sys.argv) > 1 else None).items():
        print(f"Parameters (`parameters.{group}`):\n")
        print("| parameter | default | unit | range | meaning |\n|---|---|---|---|---|")
        print("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
