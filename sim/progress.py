"""One progress bar for every command: a tqdm bar on stderr, created on its first update."""

from __future__ import annotations

import sys
from typing import Any


class ProgressBar:
    """A tqdm bar moved to a count of things done; created when the first count arrives.

    Args:
        desc: the bar's label.
        unit: what is counted ("run", "day", "sim").
        total: the count at the end; None: the first `update` gives it.
        leave: keep the bar on screen when closed.
        disable: no bar at all (as `--quiet`).
        options: further `tqdm` options (bar_format, smoothing).
    """

    def __init__(self, desc: str, unit: str = "run", total: int | None = None,
                 leave: bool = True, disable: bool = False, **options: Any) -> None:
        self.desc, self.unit, self.total = desc, unit, total
        self.options = {"leave": leave, "disable": disable, **options}
        self.bar: Any = None

    def update(self, done: int, total: int | None = None, postfix: str | None = None) -> None:
        """Show `done` of `total` (the bar's total if None), with an optional postfix text."""
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total if total is not None else self.total, initial=done,
                            unit=self.unit, desc=self.desc, file=sys.stderr,
                            dynamic_ncols=True, **self.options)
            if postfix is not None:
                self.bar.set_postfix_str(postfix, refresh=False)
                self.bar.refresh()
            return
        if postfix is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Close the bar (a no-op if it was never shown)."""
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
