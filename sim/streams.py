"""Counter-based random numbers keyed by (run, process, day, item, draw), for common random numbers.

Every random number of a run is a hash of the run's key, the process that draws it, the day, the
item it concerns (a unit row, a cell, a community) and the draw's number for that item. What one
item gets therefore never depends on how many numbers were drawn for other items, other
processes or other days: when a counterfactual changes something (a unit stays), only the draws
that really depend on the change differ, and paired runs of a baseline and a counterfactual stay
in step everywhere else.

The hash is SplitMix64's finaliser applied twice (Steele, Lea and Flood 2014), which passes
BigCrush as a counter-based generator. Distributions are drawn inside numba kernels from these
uniforms: Poisson by inversion (mean < 10) or Hörmann's PTRS (the algorithm NumPy uses),
binomial by inversion or a normal approximation when n p (1 - p) > 25, multinomials as
sequential binomials.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

# Keys come from each name's position: append new processes, never reorder.
PROCESSES = ("setup", "decide", "move", "engage", "complex_attack", "violence", "recruit",
             "junta", "drone", "grievance", "flight", "influence", "control", "replacement",
             "foreign", "blockade", "recovery", "reinforce")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_DAY = np.uint64(0xD1B54A32D192ED03)
_ITEM = np.uint64(0xAEF17502108EF2D9)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_UNIT = 1.0 / 9007199254740992.0  # 2^-53


@numba.njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _MUL1
    z = (z ^ (z >> _S27)) * _MUL2
    return z ^ (z >> _S31)


@numba.njit(cache=True)
def uniform(key: np.uint64, day: int, item: int, draw: int) -> float:
    """Uniform in [0, 1) for (stream key, day, item, draw)."""
    h = _mix(key + np.uint64(day + 1) * _DAY)
    h = _mix(h ^ (np.uint64(item) * _ITEM + np.uint64(draw) * _GOLDEN))
    return float(h >> _S11) * _UNIT


@numba.njit(cache=True)
def poisson(mean: float, key: np.uint64, day: int, item: int, draw: int) -> int:
    """Poisson draw; uses draws `draw`, `draw + 1`, ... of the item."""
    if mean <= 0.0:
        return 0
    if mean < 10.0:
        u = uniform(key, day, item, draw)
        p = math.exp(-mean)
        cumulative = p
        x = 0
        while u > cumulative and x < 1000:
            x += 1
            p *= mean / x
            cumulative += p
        return x
    # PTRS, Hörmann (1993), as in NumPy's random_poisson_ptrs.
    slam = math.sqrt(mean)
    loglam = math.log(mean)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    k = draw
    while True:
        u = uniform(key, day, item, k) - 0.5
        v = uniform(key, day, item, k + 1)
        k += 2
        us = 0.5 - abs(u)
        x = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= vr:
            return int(x)
        if x < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -mean + x * loglam - math.lgamma(x + 1.0)):
            return int(x)


@numba.njit(cache=True)
def binomial(n: int, p: float, key: np.uint64, day: int, item: int, draw: int) -> int:
    """Binomial draw; uses draws `draw` and `draw + 1` of the item."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    q = 1.0 - p if flip else p
    if n * q * (1.0 - q) > 25.0:  # normal approximation (Box-Muller), clipped to [0, n]
        u1 = max(uniform(key, day, item, draw), 1e-300)
        u2 = uniform(key, day, item, draw + 1)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        x = math.floor(n * q + z * math.sqrt(n * q * (1.0 - q)) + 0.5)
        x = min(max(x, 0), n)
    else:  # inversion
        u = uniform(key, day, item, draw)
        s = q / (1.0 - q)
        a = (n + 1) * s
        r = (1.0 - q) ** n
        x = 0
        while u > r and x < n:
            u -= r
            x += 1
            r *= a / x - s
    return n - x if flip else x


@numba.njit(cache=True)
def multinomial(n: int, weights: np.ndarray, out: np.ndarray, key: np.uint64, day: int,
                item: int, draw: int) -> None:
    """Split n over categories in proportion to non-negative `weights`, into `out` (integers).

    Uses two draws per category from `draw` on.
    """
    total = 0.0
    for w in weights:
        total += w
    left = n
    for i in range(weights.size):
        if left <= 0 or total <= 0.0:
            out[i] = 0
            continue
        share = min(weights[i] / total, 1.0)
        got = binomial(left, share, key, day, item, draw + 2 * i)
        out[i] = got
        left -= got
        total -= weights[i]
    if left > 0:  # rounding left nothing to a positive category: give it the last one
        for i in range(weights.size - 1, -1, -1):
            if weights[i] > 0.0:
                out[i] += left
                break


class Stream(NamedTuple):
    """One process's random numbers for one day: pass `key` and `day` to the kernels."""

    key: np.uint64
    day: int

    def uniforms(self, n: int, draws: int = 1) -> np.ndarray:
        """(draws, n) uniforms for items 0..n-1."""
        return _uniform_block(self.key, self.day, n, draws)


class RandomStreams:
    """The run's stream keys: one 64-bit key per process, from the model's seeded generator."""

    __slots__ = ("keys",)

    def __init__(self, seed_source: np.random.Generator) -> None:
        """Draw the run's key from the model's seeded generator."""
        run_key = seed_source.integers(0, 2**63, dtype=np.uint64)
        self.keys = {name: np.uint64(_mix_py(int(run_key) ^ ((i + 1) * int(_GOLDEN))))
                     for i, name in enumerate(PROCESSES)}

    def get(self, process: str, day: int) -> Stream:
        """The stream of `process` on `day` (-1 for set-up)."""
        return Stream(self.keys[process], day)


def _mix_py(z: int) -> int:
    mask = (1 << 64) - 1
    z &= mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


@numba.njit(cache=True)
def _uniform_block(key: np.uint64, day: int, n: int, draws: int) -> np.ndarray:
    out = np.empty((draws, n))
    for d in range(draws):
        for i in range(n):
            out[d, i] = uniform(key, day, i, d)
    return out


@numba.njit(cache=True)
def item_uniforms(key: np.uint64, day: int, items: np.ndarray, draw: int) -> np.ndarray:
    """(n,) uniforms of draw `draw` for the given items (e.g. unit rows)."""
    out = np.empty(items.size)
    for k in range(items.size):
        out[k] = uniform(key, day, items[k], draw)
    return out
