"""Random streams keyed by (run seed, process, day), for common random numbers.

Each process of the daily step draws from its own counter-based (Philox) stream, restarted
every day at a counter that encodes the day. What a process draws on one day therefore does not
depend on how many numbers any process drew before: when a counterfactual changes something on
one day (a unit stays), only the draws that really depend on that change differ, and paired
runs of a baseline and a counterfactual stay in step elsewhere. Per-unit draws are made for
every unit row, present or not, for the same reason.
"""

from __future__ import annotations

import numpy as np

PROCESSES = ("setup", "decide", "move", "engage", "complex_attack", "violence", "recruit",
             "junta")


class RandomStreams:
    """One Philox generator, reset to the stream of a (process, day) on request."""

    __slots__ = ("_bit_generator", "_generator", "_key", "_template")

    def __init__(self, seed_source: np.random.Generator) -> None:
        """Draw the run's 128-bit key from the model's seeded generator."""
        self._key = seed_source.integers(0, 2**63, size=2, dtype=np.uint64)
        self._bit_generator = np.random.Philox(key=self._key)
        self._generator = np.random.Generator(self._bit_generator)
        self._template = self._bit_generator.state

    def get(self, process: str, day: int) -> np.random.Generator:
        """The generator positioned at the start of `process`'s stream for `day`.

        `day` is the day index (0 = start date; -1 for decisions made while setting up). The
        returned object is shared: use it for one process at a time.
        """
        state = dict(self._template)
        key = self._key.copy()
        key[1] ^= np.uint64(PROCESSES.index(process) + 1)
        # The day sits in the third word of the 256-bit counter, far from the words that
        # advance as numbers are drawn, so days never overlap.
        counter = np.array([0, 0, day + 1, 0], dtype=np.uint64)
        state["state"] = {"counter": counter, "key": key}
        state["buffer_pos"] = 4  # empty buffer
        state["has_uint32"] = 0
        self._bit_generator.state = state
        return self._generator
