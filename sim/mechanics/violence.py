"""Violence against civilians by armed units.

Every present unit commits a violent event on a given day with probability

    p = base_rate * (1 - restraint) * min(strength / 100, 3)
        * (contested_multiplier if the cell is in zones 2-4)

where the cell has residents. Event sizes are Pareto-distributed (heavy-tailed, so single
events of hundreds occur), multiplied by `indiscriminate_multiplier` where the perpetrator's
own influence is weak (Kalyvas: indiscriminate violence where control is low), capped by
`size_cap` and by a fifth of the cell's residents. Victims are drawn from the communities of
the cell in proportion to residents times the faction's `target_bias`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ViolenceResult:
    """Today's events against civilians."""

    units: np.ndarray  # (E,) perpetrating unit indices
    cells: np.ndarray  # (E,) flat cell ids
    victims: np.ndarray  # (E, G) civilians killed by community


def event_probability(
    restraint: np.ndarray, strength: np.ndarray, contested: np.ndarray, base_rate: float,
    contested_multiplier: float,
) -> np.ndarray:
    """Per-unit daily chance of an event: base * (1 - restraint) * size * contested factor."""
    size = np.minimum(strength / 100.0, 3.0)
    return np.clip(base_rate * (1.0 - restraint) * size *
                   np.where(contested, contested_multiplier, 1.0), 0.0, 1.0)


def pareto_sizes(uniform: np.ndarray, scale: float, tail: float) -> np.ndarray:
    """Heavy-tailed event sizes from uniform draws u in [0, 1): scale * (1 - u)^(-1/tail)."""
    return scale * (1.0 - uniform) ** (-1.0 / tail)


def violence_against_civilians(
    rng: np.random.Generator,
    uniforms: np.ndarray,
    unit_cell: np.ndarray,
    unit_restraint: np.ndarray,
    unit_strength: np.ndarray,
    unit_bias: np.ndarray,
    unit_own_influence: np.ndarray,
    residents: np.ndarray,
    contested: np.ndarray,
    base_rate: float,
    contested_multiplier: float,
    size_scale: float,
    size_tail: float,
    size_cap: float,
    indiscriminate_multiplier: float,
) -> ViolenceResult:
    """Draw today's events against civilians.

    Args:
        rng: the day's generator (for the victims' communities).
        uniforms: (3, U) uniform draws per unit: event, size, rounding.
        unit_cell: (U,) flat cell of each present unit.
        unit_restraint: (U,) restraint of each unit's faction.
        unit_strength: (U,) personnel of each unit.
        unit_bias: (U, G) victim weights by community for each unit's faction.
        unit_own_influence: (U,) influence of the unit's side in its cell (0-1).
        residents: (G, C) residents by community and cell.
        contested: (C,) True in Kalyvas zones 2-4.
        base_rate: events per 100 personnel-day at restraint 0.
        contested_multiplier: rate factor in zones 2-4.
        size_scale: Pareto scale of event deaths.
        size_tail: Pareto tail exponent.
        size_cap: largest event.
        indiscriminate_multiplier: size factor where the perpetrator's control is weak.
    """
    people = residents[:, unit_cell]  # (G, U)
    here = people.sum(axis=0)
    p = event_probability(unit_restraint, unit_strength, contested[unit_cell], base_rate,
                          contested_multiplier)
    acting = np.flatnonzero((uniforms[0] < p) & (here >= 1.0))
    n = acting.size
    if n == 0:
        return ViolenceResult(acting, acting, np.zeros((0, residents.shape[0]), dtype=np.int64))
    sizes = pareto_sizes(uniforms[1, acting], size_scale, size_tail)
    sizes *= np.where(unit_own_influence[acting] < 0.5, indiscriminate_multiplier, 1.0)
    sizes = np.minimum(np.minimum(sizes, size_cap), 0.2 * here[acting])
    deaths = np.floor(sizes + uniforms[2, acting]).astype(np.int64)
    people = np.maximum(people, 0.0)
    weights = people[:, acting].T * unit_bias[acting]  # (E, G)
    totals = weights.sum(axis=1, keepdims=True)
    fallback = people[:, acting].T / here[acting, None]
    pvals = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), fallback)
    victims = rng.multinomial(deaths, pvals)
    cells = unit_cell[acting]
    victims = cap_by_residents(cells, victims, np.floor(people[:, acting].T).astype(np.int64))
    return ViolenceResult(acting, cells, victims)


def cap_by_residents(cells: np.ndarray, victims: np.ndarray, residents: np.ndarray) -> np.ndarray:
    """Cap victims (E, G) so that events sharing a cell never kill more than live there.

    Events are taken in order; `residents` (E, G) is the cell's count for each event.
    """
    order = np.argsort(cells, kind="stable")
    c, v, r = cells[order], victims[order], residents[order]
    new_group = np.r_[True, c[1:] != c[:-1]]
    group = np.cumsum(new_group) - 1
    running = np.cumsum(v, axis=0)
    before = np.vstack([np.zeros((1, v.shape[1]), dtype=v.dtype), running])
    cum = running - before[np.flatnonzero(new_group)][group]
    capped = np.minimum(cum, r) - np.minimum(cum - v, r)
    out = np.empty_like(victims)
    out[order] = capped
    return out
