"""Processes seen through /proc (Linux): children of a process, and whether one still lives."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def children(pid: int) -> set[int]:
    """Process ids whose parent is `pid`."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None and info[1] == pid:
                out.add(int(entry))
    return out


def alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    info = _stat(pid)
    return info is not None and info[0] not in ("Z", "X")


def wait_for_children(pid: int, n: int, timeout: float = 60.0) -> set[int]:
    """Wait until `pid` has at least `n` children; return them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = children(pid)
        if len(found) >= n:
            return found
        if not alive(pid):
            break
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not start {n} children")


def survivors(pids: set[int], within: float = 10.0) -> set[int]:
    """The processes among `pids` still alive after waiting up to `within` seconds."""
    deadline = time.monotonic() + within
    left = {p for p in pids if alive(p)}
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = {p for p in left if alive(p)}
    return left
