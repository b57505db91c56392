"""`sahel-sim targets`: the calibration targets, their ranges and sources."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from sim.calibration.targets import DEFAULT_TARGETS, load_targets
from sim.cli.common import EXIT_OK
from sim.experiments.reporting import text_table

SOURCE_WIDTH = 72  # characters of a target's source shown in the table


def cmd_targets(args: argparse.Namespace) -> int:
    """Print the targets as a table: name, range, unit, confidence, source."""
    path = Path(args.targets)
    targets = load_targets(path)
    rows = []
    for t in targets:
        source = f"{t.source} ({t.source_date})"
        if len(source) > SOURCE_WIDTH and not args.full:
            source = source[:SOURCE_WIDTH - 3] + "..."
        rows.append([t.name, t.range_text(), t.unit, t.confidence, source])
    print(text_table(["target", "range", "unit", "conf.", "source"], rows, left=5))
    levels = Counter(t.confidence for t in targets)
    print(f"\n{len(targets)} targets in {path} (confidence H {levels['H']}, M {levels['M']}, "
          f"L {levels['L']}; weights H 1, M 0.5, L 0.25). How each is compared with a run: "
          "its [targets.compare] table (see calibration/README.md).")
    return EXIT_OK


def register_calibration_commands(sub: argparse._SubParsersAction) -> None:
    """Add `targets` to the `sahel-sim` parser."""
    p = sub.add_parser(
        "targets", help="list the calibration targets: sourced ranges, units, sources",
        description="Read and check a calibration targets file (default: the project's "
                    "calibration/targets.toml) and print each target's sourced range, unit, "
                    "confidence (H, M, L as in FACTS.md) and source. A bad file is one line "
                    "naming the file, line, target and field, with exit code 2.")
    p.add_argument("--targets", default=str(DEFAULT_TARGETS), metavar="FILE",
                   help="targets file (default: %(default)s)")
    p.add_argument("--full", action="store_true", help="print whole sources (not cut)")
    p.set_defaults(func=cmd_targets)
