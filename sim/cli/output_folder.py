"""`run --out`: which folders a run may replace, and replacing one whole.

A run writes into a hidden `.NAME.partial-PID` folder beside `--out` that replaces it only
when complete (`replace_folder`); `check_output_folder` refuses a folder a run did not
write, and `remove_stale_partials` clears what runs that died left behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from sim.cli.common import UsageError

# Files a run writes (besides what its summary.json lists): a folder holding only these and a
# summary.json written by sahel-sim is one this command may replace.
_OUR_FILES = re.compile(r"^(summary\.json|[a-z_]+\.parquet|[a-z_]+\.png)$")
# A run's folder while written (.NAME.partial-PID) and the one it replaces (.NAME.old-PID).
_PARTIAL = re.compile(r"^\..+\.(partial|old)-(\d+)$")


def check_output_folder(out: Path) -> None:
    """Refuse an output folder this command must not replace (one line, exit 2).

    Allowed: a folder that does not exist yet, an empty folder, or a folder written by
    `sahel-sim run` (its summary.json names the package version and scenario hash) holding
    nothing but what a run writes. Refused: anything else, the current folder or one above
    it, a path through a file.

    Raises:
        UsageError: why the folder cannot be used.
    """
    try:
        resolved = out.resolve()
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:
        raise UsageError(f"--out: {out}: {exc}") from None
    if not out.name or out.name in (".", "..") or resolved == cwd or resolved in cwd.parents:
        raise UsageError(f"--out: '{out}' is the current folder or one above it; name a new "
                         "folder for the results (such as runs/my-run)")
    for parent in [out, *out.parents]:
        try:
            if parent.exists() and not parent.is_dir():
                what = "exists and is not a folder" if parent == out else "is not a folder"
                raise UsageError(f"--out: {parent} {what}")
        except OSError as exc:
            raise UsageError(f"--out: {parent}: {exc.strerror or exc}") from None
    if not out.exists():
        return
    try:
        entries = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise UsageError(f"--out: cannot list {out}: {exc.strerror or exc}") from None
    if not entries:
        return
    summary = _our_summary(out / "summary.json")
    hint = "choose another --out folder (a run replaces only a folder it wrote)"
    if summary is None:
        raise UsageError(f"--out: {out} holds files not written by sahel-sim run "
                         f"({_names(entries)}); {hint}")
    listed = set(summary.get("files") or []) | {"summary.json"}
    foreign = [n for n in entries if n not in listed and not (
        not summary.get("files") and _OUR_FILES.match(n) and (out / n).is_file())]
    if foreign:
        raise UsageError(f"--out: {out} also holds files a run did not write "
                         f"({_names(foreign)}); {hint}")


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _our_summary(path: Path) -> dict | None:
    """A run's summary.json (a dict with the package version and scenario hash), or None."""
    try:
        if not path.is_file() or path.stat().st_size > 50 << 20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and {"version", "scenario_hash", "seed"} <= set(data):
        return data
    return None


def remove_stale_partials(folder: Path) -> None:
    """Remove `.NAME.partial-PID` and `.NAME.old-PID` folders left by runs that died."""
    try:
        candidates = [p for p in folder.iterdir() if _PARTIAL.match(p.name)]
    except OSError:
        return
    for path in candidates:
        pid = int(_PARTIAL.match(path.name).group(2))  # type: ignore[union-attr]
        if pid != os.getpid() and not _alive(pid) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def replace_folder(new: Path, target: Path) -> None:
    """Put `new` in place of `target` (which may exist), removing the old one."""
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)
