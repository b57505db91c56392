"""Grievance (revenge): communities remember who killed their members.

A community is one group (Fulani, Tuareg and Arab, Bambara, Mossi, other) in one admin1
region. Its grievance toward each faction, g[c, f], decays with a half-life and rises with the
civilians that faction killed among its members today (from the ledger):

    g <- g * 2^(-1 / grievance_half_life) + grievance_per_death * deaths[c, f] / (members[c] / 1000)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import CivilianParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: CivilianParams, rng: Stream) -> None:
    """Decay grievance and add today's civilian deaths."""
    decay_and_add(world.grievance, 2.0 ** (-1.0 / params.grievance_half_life),
                  ledger.today(world).civilian_deaths, world.members, params.grievance_per_death)


def add_grievance(grievance: np.ndarray, deaths: np.ndarray, members: np.ndarray,
                  per_death: float) -> None:
    """Raise grievance in place: `deaths` (communities, F) civilians killed by each faction."""
    decay_and_add(grievance, 1.0, deaths, members, per_death)


@numba.njit(cache=True)
def decay_and_add(grievance, decay, deaths, members, per_death) -> None:
    """Decay grievance and add the deaths (see the module docstring), in place, in one pass."""
    for c in range(grievance.shape[0]):
        per_thousand = max(members[c], 1.0) / 1000.0
        for f in range(grievance.shape[1]):
            grievance[c, f] = grievance[c, f] * decay + per_death * deaths[c, f] / per_thousand


def support(grievance: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Support (0-1) of each community for each faction, (communities, F).

    Grievance toward the faction's enemies, each weighted by `weights` (`support_weights`),
    minus grievance toward the faction, saturating:
    s = 1 - exp(-(sum_f w(a, f) g[c, f] - g[c, a])+).
    """
    drive = grievance @ weights.T - grievance
    return 1.0 - np.exp(-np.clip(drive, 0.0, None))


def support_weights(hostility: np.ndarray, guerrilla: np.ndarray,
                    rival_support: float) -> np.ndarray:
    """(F, F) weight of grievance toward faction f in the support for faction a.

    Hostility, times `rival_support` where both are armed groups: any two hostile armed
    groups (JNIM and IS Sahel, CSP-DPA and IS Sahel). Other enemies count in full.
    """
    rivals = np.outer(guerrilla, guerrilla)
    return hostility * np.where(rivals, rival_support, 1.0)
