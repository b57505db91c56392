"""The local process pool (`run_in_pool`): results by position, retries after a worker dies."""

from __future__ import annotations

import os
from pathlib import Path

from sim.experiments.process_pool import MAX_ATTEMPTS, run_in_pool


def _double_dying_once(marker: str, value: int) -> int:
    """Twice `value`; the first call to see no marker file kills its worker process."""
    try:
        Path(marker).touch(exist_ok=False)
    except FileExistsError:
        return 2 * value
    os._exit(1)


def _die(value: int) -> int:
    os._exit(1)


def test_calls_whose_worker_died_are_retried_in_a_new_pool(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    arguments = [(marker, value) for value in range(5)]
    results = dict(run_in_pool(_double_dying_once, arguments, 2, died=lambda *a: None))
    assert results == {i: 2 * i for i in range(5)}
    assert Path(marker).exists()


def test_a_call_whose_worker_always_dies_gives_what_died_says(tmp_path: Path) -> None:
    died_for = []

    def died(value: int) -> str:
        died_for.append(value)
        return f"died {value}"

    results = dict(run_in_pool(_die, [(7,), (8,)], 2, died=died))
    assert results == {0: "died 7", 1: "died 8"}
    assert sorted(died_for) == [7, 8] and MAX_ATTEMPTS >= 2
