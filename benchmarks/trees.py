"""Checkouts to compare: a commit exported with `git archive`, or a copy of the working tree.

Shared by the benchmarks that run an old and a new model side by side.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ChildError(RuntimeError):
    """A child process failed; the message says which tree and shows its error."""


def export_commit(rev: str, dest: Path) -> str:
    """Extract `git archive REV` of this repository into dest; return the full commit id."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return commit


def snapshot_worktree(dest: Path) -> str:
    """Copy the working tree (tracked and untracked files git does not ignore) into dest.

    The working tree may be edited while the benchmark runs; every child then sees one state.
    Returns a description: HEAD and how many paths under sim/ differ from it.
    """
    git = ["git", "-C", str(ROOT)]
    names = subprocess.run([*git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, names):
        source = ROOT / name
        if source.is_file():  # deleted tracked files are listed too
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    head = subprocess.run([*git, "rev-parse", "--short=10", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "sim"], capture_output=True,
                           text=True).stdout.splitlines()
    return (f"working tree {ROOT} (HEAD {head}, {len(dirty)} changed/new/deleted paths under "
            f"sim/), copied into {dest} at the start")
