"""Civilian communities: grievance (revenge), recruitment into armed groups, and flight.

A community is one group (Fulani, Tuareg and Arab, Bambara, Mossi, other) in one admin1
region. Its grievance toward each faction, g[c, f], rises with the deaths that faction causes
among its members and decays with a half-life:

    g <- g * 2^(-1 / half_life) + grievance_per_death * deaths[c, f] / (members[c] / 1000)

Support for an armed group a is s = 1 - exp(-(sum_f hostile(a, f) g[c, f] - g[c, a])+), and
the group recruits Poisson(recruitment_rate * members/1000 * s * reach[a, region]) fighters a day
where `reach` is its presence in the community's region (0-1). People flee cells with deaths
(`flight_per_death` per death, civilian or fighter) and contested cells
(`contested_flight_rate` a day) toward the nearest large town of their country.
"""

from __future__ import annotations

import numpy as np


def decay_grievance(grievance: np.ndarray, half_life: float) -> None:
    """Exponential decay of grievance in place."""
    grievance *= 2.0 ** (-1.0 / half_life)


def add_grievance(
    grievance: np.ndarray, deaths: np.ndarray, members: np.ndarray, per_death: float
) -> None:
    """Raise grievance in place: `deaths` (C, F) civilians killed by each faction."""
    per_thousand = np.maximum(members, 1.0)[:, None] / 1000.0
    grievance += per_death * deaths / per_thousand


def support(grievance: np.ndarray, hostility: np.ndarray) -> np.ndarray:
    """Support (0-1) of each community for each faction, (C, F).

    Grievance toward the faction's enemies minus grievance toward the faction, saturating.
    """
    drive = grievance @ hostility.T - grievance
    return 1.0 - np.exp(-np.clip(drive, 0.0, None))


def recruits(
    rng: np.random.Generator,
    members: np.ndarray,
    community_support: np.ndarray,
    reach: np.ndarray,
    recruiting: np.ndarray,
    rate: float,
) -> np.ndarray:
    """Recruits drawn from each community by each faction today, (C, F) integers.

    Args:
        rng: the model's generator.
        members: (C,) living residents of each community.
        community_support: (C, F) support, see `support`.
        reach: (C, F) presence of each faction in the community's region (0-1).
        recruiting: (F,) True for factions that recruit from communities (armed groups).
        rate: recruits per 1,000 fully supportive people per day.
    """
    expected = rate * (members[:, None] / 1000.0) * community_support * reach * recruiting
    drawn = rng.poisson(expected)
    # At most half a community leaves in one draw, whatever the number of groups recruiting.
    cap = np.floor(0.5 * members).astype(np.int64)
    total = drawn.sum(axis=1)
    over = total > cap
    if over.any():
        drawn[over] = np.floor(drawn[over] * (cap[over] / total[over])[:, None]).astype(np.int64)
    return drawn


def flight(
    residents_total: np.ndarray,
    deaths: np.ndarray,
    contested: np.ndarray,
    flight_per_death: float,
    contested_rate: float,
) -> np.ndarray:
    """People leaving each cell today, (C,): a share of residents, at most half."""
    share = np.divide(flight_per_death * deaths, residents_total,
                      out=np.zeros_like(residents_total), where=residents_total > 0)
    share = np.minimum(share + contested_rate * contested, 0.5)
    return residents_total * share
