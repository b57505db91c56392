"""Scenario errors: the one-line `ScenarioError` and the helpers that locate a problem.

Every message names the file, the line (found again in the file: TOML parsers keep no
positions), the dotted field, what is wrong and what is allowed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
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


def at(label: str, line: int | None) -> str:
    """'file:line', or 'file' when the line is unknown (never 'file:None')."""
    return f"{label}:{line}" if line else label


@dataclass(slots=True)
class Source:
    """One file of an `extends` chain: its path, how messages name it, its text and data."""

    path: Path
    label: str  # the chain that led to it: "child.toml -> baseline.toml"
    text: str | None = None
    data: dict[str, Any] | None = None


@dataclass(slots=True)
class Provenance:
    """Which file of an `extends` chain wrote each part of a merged scenario.

    `sources` lists the files, the one loaded first; `units` and `events` run parallel to
    the merged lists: for each entry, the (source, index in that file) pairs that wrote it,
    nearest file first.
    """

    sources: list[Source]
    units: list[list[tuple[int, int]]] = field(default_factory=list)
    events: list[list[tuple[int, int]]] = field(default_factory=list)

    @classmethod
    def of_files(cls, files: list[Path]) -> Provenance:
        """Without a record of the merge: every key is looked for in the first file."""
        return cls([Source(files[0], str(files[0]))])

    def locate(self, loc: tuple[Any, ...]) -> tuple[Source, tuple[Any, ...]]:
        """The file that wrote a merged location, and the location inside that file."""
        kind = loc[0] if loc else None
        if kind in ("units", "events") and len(loc) >= 2 and isinstance(loc[1], int):
            table = self.units if kind == "units" else self.events
            writers = table[loc[1]] if loc[1] < len(table) else []
            if writers:
                chosen = writers[-1]  # the file that introduced the entry
                if len(loc) > 2:
                    for source, index in writers:
                        entry = _entry(self.sources[source].data, kind, index)
                        if isinstance(entry, dict) and loc[2] in entry:
                            chosen = (source, index)
                            break
                return self.sources[chosen[0]], (kind, chosen[1], *loc[2:])
        # The nearest file that writes the most of the location; if none writes any of it (a
        # required field missing), the root of the chain, which must define the whole scenario.
        best, depth = len(self.sources) - 1, 0
        for i, source in enumerate(self.sources):
            found = _depth_present(source.data, loc)
            if found > depth:
                best, depth = i, found
        return self.sources[best], loc

    def where(self, loc: tuple[Any, ...]) -> str:
        """'chain:line' of the file that wrote a location (the line when it can be found)."""
        source, local = self.locate(loc)
        return at(source.label, _find_line(source.path, local, text=source.text))


def _entry(data: dict[str, Any] | None, kind: str, index: int) -> Any:
    entries = data.get(kind) if isinstance(data, dict) else None
    return entries[index] if isinstance(entries, list) and index < len(entries) else None


def _depth_present(data: Any, loc: tuple[Any, ...]) -> int:
    """How many leading parts of a (key-only) location a file's data has."""
    depth, node = 0, data
    for part in loc:
        if isinstance(node, dict) and not isinstance(part, int) and part in node:
            node = node[part]
            depth += 1
        else:
            break
    return depth


def _located(where: Provenance | list[Path], loc: tuple[Any, ...], data: dict[str, Any],
             msg: str) -> str:
    prov = where if isinstance(where, Provenance) else Provenance.of_files(where)
    return f"{prov.where(loc)}: {_dotted(loc, data)}: {msg}"


def _where(files: list[Path], loc: tuple[Any, ...]) -> str:
    """'file:line' of the nearest file in the chain that writes the key, else the first file."""
    for path in files:
        line = _find_line(path, loc, exact=True)
        if line:
            return f"{path}:{line}"
    return at(str(files[0]), _find_line(files[0], loc))


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


def _find_line(path: Path, loc: tuple[Any, ...], exact: bool = False,
               text: str | None = None) -> int | None:
    """Best-effort line of the key a location names (TOML parsers keep no positions).

    With `exact`, only a line that writes the key itself counts (not its table's header).
    `text` is the file's text if already read (the file itself is then not opened again).
    """
    if text is None:
        try:
            if not path.is_file() or path.stat().st_size > 1 << 20:
                return None
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    lines = text.splitlines()
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


def short_repr(value: Any) -> str:
    """repr() of a value for an error message, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
