"""Atomic file writes: a file is written under a temporary name beside it, then renamed.

A reader sees the old file or the whole new one, never a partial one; a write that fails
(or is interrupted) leaves the old file as it was and removes its temporary file. Temporary
names are `.NAME.tmp<pid>-<n>` in the same folder (so the rename stays on one file system);
`STALE_PATTERN` finds those left behind by a killed process.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STALE_PATTERN = ".*.tmp*"  # glob of the temporary files a killed writer may leave behind
_counter = itertools.count()


def temporary_path(path: Path) -> Path:
    """A temporary name beside `path`, unique to this process and call."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}-{next(_counter)}")


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path` (flushed to disk first).

    On an exception the temporary file is removed and `path` is left as it was.
    """
    final = Path(path)
    temp = temporary_path(final)
    try:
        yield temp
        _flush_to_disk(temp)
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write(path: Path | str, writer: Callable[[Path], object]) -> Path:
    """Call `writer(temporary path)`, then rename the file it wrote to `path`; `path`."""
    with atomic_path(path) as temp:
        writer(temp)
    return Path(path)


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write text to `path` atomically; `path`."""
    return atomic_write(path, lambda temp: temp.write_text(text, encoding=encoding))


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write bytes to `path` atomically; `path`."""
    return atomic_write(path, lambda temp: temp.write_bytes(data))


def atomic_save_figure(fig: Any, path: Path | str, **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure atomically (its format from `path`'s suffix); `path`."""
    fmt = savefig_kwargs.pop("format", Path(path).suffix.lstrip(".") or "png")
    return atomic_write(path, lambda temp: fig.savefig(temp, format=fmt, **savefig_kwargs))


def atomic_to_csv(frame: Any, path: Path | str, **to_csv_kwargs: Any) -> Path:
    """Write a pandas DataFrame as CSV atomically; `path`."""
    return atomic_write(path, lambda temp: frame.to_csv(temp, **to_csv_kwargs))


def atomic_to_parquet(frame: Any, path: Path | str, **to_parquet_kwargs: Any) -> Path:
    """Write a pandas DataFrame as Parquet atomically; `path`."""
    return atomic_write(path, lambda temp: frame.to_parquet(temp, **to_parquet_kwargs))


def _flush_to_disk(path: Path) -> None:
    """Fsync a written file, so that a crash after the rename cannot leave it empty."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
