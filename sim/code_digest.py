"""The model's code fingerprint: a hash of the `sim` package's source and data files.

Results kept on disk and reused later (an experiment's folder, a calibration's folder, the
dashboard's comparisons, a reachability sweep) record it, so runs made by other code are never
resumed or shown as this code's: sahel-sim's version number changes only at a release, the
model between releases.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# What the model's behaviour depends on: its code and the data it ships (`sim/data`).
SUFFIXES = frozenset({".py", ".csv", ".toml", ".geojson"})


def package_files(root: Path = PACKAGE) -> list[Path]:
    """The files under `root` that the fingerprint covers, in a fixed order."""
    return sorted(p for p in root.rglob("*")
                  if p.suffix in SUFFIXES and p.is_file() and "__pycache__" not in p.parts)


def digest_of(root: Path) -> str:
    """sha256 over the covered files' paths (relative to `root`) and contents.

    Raises:
        RuntimeError: `root` has no `__init__.py` among them (a zipped or compiled-only
            install, whose digest would not tell versions apart).
    """
    return _digest(root, _stamps(root))


def code_digest() -> str:
    """The fingerprint of the `sim` package this process runs.

    Re-read when a file's size or modification time changes, so a long-lived process (the
    dashboard's server) sees an edit, as its fresh worker processes do.
    """
    return digest_of(PACKAGE)


def _stamps(root: Path) -> tuple[tuple[str, int, int], ...]:
    files = package_files(root)
    if root / "__init__.py" not in files:
        raise RuntimeError(f"{root}: no __init__.py among the package's files; cannot tell "
                           "this model's code from another's")
    return tuple((p.relative_to(root).as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
                 for p in files)


@functools.lru_cache(maxsize=8)
def _digest(root: Path, stamps: tuple[tuple[str, int, int], ...]) -> str:
    sha = hashlib.sha256()
    for name, _, _ in stamps:
        sha.update(name.encode() + b"\0")
        sha.update((root / name).read_bytes() + b"\0")
    return sha.hexdigest()
