"""Scenario errors: the one-line `ScenarioError` and the helpers that locate a problem.

Every message names the file, the line (found again in the file: TOML parsers keep no
positions), the dotted field, what is wrong and what is allowed.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming file, field and fix."""


class _FieldError(ValueError):
    """A cross-field error with the dotted location it concerns."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


def did_you_mean(word: str, choices: Any) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelt name, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _located(files: list[Path], loc: tuple[Any, ...], data: dict[str, Any], msg: str) -> str:
    where = _where(files, loc)
    return f"{where}: {_dotted(loc, data)}: {msg}"


def _where(files: list[Path], loc: tuple[Any, ...]) -> str:
    """'file:line' of the nearest file in the chain that writes the key, else the first file."""
    for path in files:
        line = _find_line(path, loc, exact=True)
        if line:
            return f"{path}:{line}"
    line = _find_line(files[0], loc)
    return f"{files[0]}:{line}" if line else str(files[0])


def _dotted(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Dotted path, naming list entries by their id where they have one: units[bear_brigade]."""
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            ident = entry.get("id") if isinstance(entry, dict) else None
            parts[-1] += f"[{ident}]" if ident else f"[{part}]"
            node = entry
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _find_line(path: Path, loc: tuple[Any, ...], exact: bool = False) -> int | None:
    """Best-effort line of the key a location names (TOML parsers keep no positions).

    With `exact`, only a line that writes the key itself counts (not its table's header).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    keys = [str(p) for p in loc if not isinstance(p, int)]
    if not keys:
        return None
    # Start after the header of the deepest table we can find, then look for the key.
    start = 0
    for depth in range(len(keys) - 1, 0, -1):
        header = re.compile(r"^\s*\[+\s*" + re.escape(".".join(keys[:depth])) + r"\s*\]+")
        hits = [i for i, text in enumerate(lines) if header.match(text)]
        if hits:
            index = [p for p in loc if isinstance(p, int)]
            start = hits[min(index[0], len(hits) - 1)] if index and len(hits) > 1 else hits[0]
            break
    key = re.compile(r"^\s*\"?" + re.escape(keys[-1]) + r"\"?\s*=")
    for i in range(start, len(lines)):
        if key.match(lines[i]):
            return i + 1
        if i > start and lines[i].lstrip().startswith("[") and start:
            break  # the next table: the key is not in this one
    if exact:
        return None
    return start + 1 if start else None
