"""Engagements: stochastic Lanchester attrition and complex attacks on high-value targets.

Each day, in every cell where mutually hostile factions are present, a fight happens with
probability `engage_probability`, times (1 - `evasion`) where guerrillas are outnumbered by
conventional forces and not ambushing (they slip away). Expected casualties per faction follow

- aimed fire (conventional clash, Lanchester square law): dA/dt = -sum_b k fp_b B;
- the mixed law (Deitchman 1962) when guerrillas ambush a moving column: the column A suffers
  aimed fire multiplied by `ambush_multiplier`, the hidden guerrillas G suffer area fire
  dG/dt = -c fp_A A G;

then realised casualties are Poisson draws capped at `max_daily_loss` of the force, split into
killed (Binomial, `killed_fraction`) and wounded, and attributed to perpetrators in proportion
to their share of the fire.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class EngagementResult:
    """Outcome of one day's engagements over the engaged cells."""

    cells: np.ndarray  # (K,) flat cell ids
    killed: np.ndarray  # (F, F, K) killed of victim faction a by perpetrator b in cell k
    wounded: np.ndarray  # (F, K) wounded of faction a in cell k
    losses: np.ndarray  # (F, K) total casualties (killed + wounded) of faction a
    ambush: np.ndarray  # (K,) True where the mixed (ambush) law applied


def hostile_cells(presence: np.ndarray, hostility: np.ndarray,
                  occupied: np.ndarray | None = None) -> np.ndarray:
    """Flat ids of cells where at least two mutually hostile factions are present.

    Args:
        presence: (F, C) personnel per faction and cell.
        hostility: (F, F) 1 where factions are hostile, else 0.
        occupied: sorted ids of the cells with anyone present, if known (else derived).
    """
    if occupied is None:
        occupied = np.flatnonzero(presence.sum(axis=0))
    here = presence[:, occupied] > 0
    threatened = (hostility @ here) * here
    return occupied[threatened.any(axis=0)]


def expected_casualties(
    forces: np.ndarray,
    hostility: np.ndarray,
    firepower: np.ndarray,
    guerrilla: np.ndarray,
    ambush: np.ndarray,
    aimed_rate: float,
    area_rate: float,
    ambush_multiplier: float,
) -> np.ndarray:
    """Expected casualties inflicted on victim a by perpetrator b in each cell, (F, F, K).

    Args:
        forces: (F, K) personnel per faction in each engaged cell.
        hostility: (F, F) 1 where hostile.
        firepower: (F,) relative effectiveness per fighter.
        guerrilla: (F,) True for armed groups (they can hide and ambush).
        ambush: (K,) True where guerrillas ambush a moving column (mixed law).
        aimed_rate: Lanchester aimed-fire coefficient k (casualties per fighter-day).
        area_rate: Deitchman area-fire coefficient c (per fighter squared per day).
        ambush_multiplier: factor on guerrilla aimed fire in an ambush.
    """
    shooters = firepower[:, None] * forces  # (F, K) effective fighters
    aimed = aimed_rate * hostility[:, :, None] * shooters[None, :, :]  # victim, perpetrator, K
    # Only guerrilla fire on the conventional column is boosted in an ambush.
    column = ambush[None, None, :] & guerrilla[None, :, None] & ~guerrilla[:, None, None]
    boost = np.where(column, ambush_multiplier, 1.0)
    aimed = aimed * boost
    # In an ambush, guerrilla victims are hidden: their attackers use area fire c * A * G.
    area = area_rate * hostility[:, :, None] * shooters[None, :, :] * forces[:, None, :]
    hidden = ambush[None, None, :] & guerrilla[:, None, None] & ~guerrilla[None, :, None]
    return np.where(hidden, area, aimed)


def resolve_engagements(
    rng: np.random.Generator,
    presence: np.ndarray,
    moved: np.ndarray,
    hostility: np.ndarray,
    firepower: np.ndarray,
    guerrilla: np.ndarray,
    engage_probability: float,
    evasion: float,
    aimed_rate: float,
    area_rate: float,
    ambush_multiplier: float,
    killed_fraction: float,
    max_daily_loss: float,
    occupied: np.ndarray | None = None,
) -> EngagementResult:
    """Draw today's engagements and their casualties.

    Args:
        rng: the model's generator.
        presence: (F, C) personnel per faction and cell.
        moved: (C,) True where a state-side unit moved into or within the cell today (a column).
        hostility: (F, F) 1 where hostile.
        firepower: (F,) relative effectiveness per fighter.
        guerrilla: (F,) True for armed groups.
        engage_probability: daily chance that co-located hostile forces fight.
        evasion: chance that guerrillas outnumbered by conventional forces avoid the fight
            (not when they ambush a column).
        aimed_rate: Lanchester aimed-fire coefficient.
        area_rate: Deitchman area-fire coefficient.
        ambush_multiplier: factor on guerrilla fire in an ambush.
        killed_fraction: share of casualties killed.
        max_daily_loss: cap on a faction's losses in a cell as a share of its strength.
        occupied: sorted ids of the cells with anyone present, if known.
    """
    candidates = hostile_cells(presence, hostility, occupied)
    forces = presence[:, candidates]
    ambush = moved[candidates] & (forces[guerrilla].sum(axis=0) > 0)
    # Guerrillas outnumbered by conventional forces slip away unless they are ambushing.
    outnumbered = forces[guerrilla].sum(axis=0) < forces[~guerrilla].sum(axis=0)
    chance = engage_probability * np.where(outnumbered & ~ambush, 1.0 - evasion, 1.0)
    draws = rng.random(presence.shape[1], dtype=np.float32)  # one per grid cell
    keep = draws[candidates] < chance
    cells, forces, ambush = candidates[keep], forces[:, keep], ambush[keep]
    expected = expected_casualties(forces, hostility, firepower, guerrilla, ambush,
                                   aimed_rate, area_rate, ambush_multiplier)
    total_expected = expected.sum(axis=1)  # (F, K)
    drawn = rng.poisson(total_expected)
    cap = np.floor(max_daily_loss * forces)
    losses = np.minimum(drawn, cap)
    killed_total = rng.binomial(losses.astype(np.int64), killed_fraction)
    share = np.divide(expected, total_expected[:, None, :],
                      out=np.zeros_like(expected), where=total_expected[:, None, :] > 0)
    killed = apportion(killed_total, share, rng)
    return EngagementResult(cells, killed, losses - killed_total, losses, ambush)


def apportion(totals: np.ndarray, share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split integer totals (F, K) over perpetrators by share (F, F, K).

    Multinomial draws, so the parts are integers summing exactly to the totals.
    """
    n_f, n_k = totals.shape
    out = np.zeros((n_f, n_f, n_k), dtype=np.int64)
    victims, cells = np.nonzero(totals)
    if victims.size:
        pvals = share[victims, :, cells]
        pvals = pvals / pvals.sum(axis=1, keepdims=True)
        out[victims, :, cells] = rng.multinomial(totals[victims, cells], pvals)
    return out


def square_law_step(
    a: float, b: float, alpha: float, beta: float, dt: float
) -> tuple[float, float]:
    """One deterministic Euler step of Lanchester's square law (dA = -beta B, dB = -alpha A)."""
    return max(a - beta * b * dt, 0.0), max(b - alpha * a * dt, 0.0)


def square_law_solution(
    a0: float, b0: float, alpha: float, beta: float, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Closed form of the square law: A(t) = A0 cosh(gt) - sqrt(beta/alpha) B0 sinh(gt)."""
    g = np.sqrt(alpha * beta)
    a = a0 * np.cosh(g * t) - np.sqrt(beta / alpha) * b0 * np.sinh(g * t)
    b = b0 * np.cosh(g * t) - np.sqrt(alpha / beta) * a0 * np.sinh(g * t)
    return a, b


def mixed_law_step(a: float, g: float, c: float, k: float, dt: float) -> tuple[float, float]:
    """One Euler step of Deitchman's mixed law: column dA = -k G, guerrillas dG = -c A G."""
    return max(a - k * g * dt, 0.0), max(g - c * a * g * dt, 0.0)


def complex_attack_toll(
    rng: np.random.Generator, median_killed: float, sigma: float, defenders: float
) -> int:
    """Deaths in a complex attack.

    Log-normal around the median, at most twice the defenders present (defenders, bystanders
    and attackers).
    """
    toll = rng.lognormal(np.log(median_killed), sigma)
    return int(min(round(toll), max(defenders, 1.0) * 2))
