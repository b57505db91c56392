"""Territorial control: influence from presence, Kalyvas zones and the controlling actor.

Control actors are the state (all state, militia and Russian forces of the cell's country)
and each non-state faction. Each actor's influence I relaxes toward a target

    T = 1 - exp(-P_reach / presence_half)

where P_reach is its personnel within reach (a 5 x 5 cell box sum, about 140 km at 0.25
degrees), with the state's target floored by its administration (`admin`) where armed groups
are weak, and by `town_state_floor` in cells with a state garrison:

    I <- I + (T - I) / adjustment_days.

The state's balance b = I_state / (I_state + max_a I_a) gives Kalyvas's zone: 1 (b >= 0.9), 2,
3 (|b - 1/2| < contested_margin / 2: contested), 4, 5 (b <= 0.1). Zones 1-2 are state control,
4-5 the strongest armed group's. Cells where no actor reaches `minimum_influence` stay with the
state (nominal control).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

CONTESTED = -1
REACH_CELLS = 5
ADMIN_PERSONNEL = 100.0  # personnel-equivalent of full state administration in a cell's reach


def reach(presence: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Personnel within reach of each cell: box sum over REACH_CELLS x REACH_CELLS, (A, C)."""
    grid = presence.reshape(presence.shape[0], *shape)
    box = uniform_filter(grid, size=(1, REACH_CELLS, REACH_CELLS), mode="constant")
    return box.reshape(presence.shape[0], -1) * REACH_CELLS**2


def influence_target(
    reach_personnel: np.ndarray,
    governance: np.ndarray,
    admin: np.ndarray,
    garrisoned: np.ndarray,
    presence_half: float,
    town_state_floor: float,
    state_weight: float,
) -> np.ndarray:
    """Target influence of each actor (row 0 = state), (A, C).

    Each actor's share of the personnel in reach (state forces weighted by `state_weight`, as
    columns pass through while armed groups live among the people), each armed group's
    governance (0-1) counting as that many times ADMIN_PERSONNEL and the state's administration
    `admin` likewise where no group governs, out of all of them plus `presence_half` (a lone
    small force has partial influence).
    """
    effective = reach_personnel.copy()
    effective[0] = effective[0] * state_weight
    effective += governance * ADMIN_PERSONNEL
    effective[0] += admin * (1.0 - governance[1:].max(axis=0, initial=0.0)) * ADMIN_PERSONNEL
    target = effective / (effective.sum(axis=0) + presence_half)
    target[0] = np.where(garrisoned, np.maximum(target[0], town_state_floor), target[0])
    return target


def entrench(governance: np.ndarray, controller_code: np.ndarray, days: float) -> None:
    """Move armed groups' governance toward 1 where they control and 0 elsewhere, in place.

    Row 0, the state, is unused: the state's hold is its administration.
    """
    for actor in range(1, governance.shape[0]):
        governance[actor] += ((controller_code == actor) - governance[actor]) / days


def relax(influence: np.ndarray, target: np.ndarray, days: float) -> None:
    """Move influence toward its target in place (one day of relaxation)."""
    influence += (target - influence) / days


def zones(influence: np.ndarray, contested_margin: float, minimum: float) -> np.ndarray:
    """Kalyvas zone 1-5 of each cell from the state's balance of influence."""
    state = influence[0]
    armed = influence[1:].max(axis=0)
    total = state + armed
    balance = np.divide(state, total, out=np.ones_like(state), where=total > 0)
    balance[np.maximum(state, armed) < minimum] = 1.0
    half = contested_margin / 2.0
    zone = np.full(state.shape, 5, dtype=np.int8)
    for edge in (0.1, 0.5 - half):
        zone -= balance > edge
    for edge in (0.5 + half, 0.9):
        zone -= balance >= edge
    return zone


def controller(influence: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """Controlling actor per cell: 0 state, a >= 1 armed group, CONTESTED in zone 3."""
    out = np.where(zone == 3, CONTESTED, 0).astype(np.int8)
    held = np.flatnonzero(zone >= 4)
    out[held] = 1 + influence[1:, held].argmax(axis=0)
    return out
