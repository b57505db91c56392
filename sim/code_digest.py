"""The model's code fingerprint: a hash of the `sim` package's source and data files.

Results kept on disk and reused later (an experiment's folder, the dashboard's comparisons, a
reachability sweep) record it, so runs made by other code are never resumed or shown as this
code's: sahel-sim's version number changes only at a release, the model between releases.
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
    """sha256 over the covered files' paths (relative to `root`) and contents."""
    sha = hashlib.sha256()
    for path in package_files(root):
        sha.update(path.relative_to(root).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """The fingerprint of the `sim` package this process runs (computed once)."""
    return digest_of(PACKAGE)
