"""The ledger: every event of a run, and every death and wound booked once against its event.

Two growing tables:

- events: day, cell, mechanism, actor1 (the initiator: the side that attacked, the perpetrator
  of a massacre), actor2 (the side attacked; CIVILIANS, or NONE), and an optional note;
- casualties: event, victim category, perpetrator faction, killed, wounded. Victim categories
  are the civilian community groups 0..G-1 (`sim.geography.COMMUNITIES`), then G + f for
  faction f's fighters.

and a short one, claims: the attacks on civilians whose perpetrator reported its victims as
fighters of an armed group (`sim.mechanics.violence`); the rows above keep what happened.

Every output that counts deaths (time series, the fatality table, the event log, cell-months,
the grid's deaths layer and the dashboard's charts) is a sum over these rows, so the counts
agree by construction. The processes of the day read today's rows through `Today`; the
mechanisms build the rows they book with `sim.ledger_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.geography import COMMUNITIES, N_COUNTRIES

if TYPE_CHECKING:
    from sim.world import World

CIVILIANS, NONE = -1, -2  # actor codes besides faction indices
N_GROUPS = len(COMMUNITIES)

# Mechanisms of logged events, with their ACLED event type and sub-event type.
MECHANISMS: dict[str, tuple[str, str]] = {
    "clash": ("Battles", "Armed clash"),
    "ambush": ("Battles", "Armed clash"),
    "complex_attack": ("Battles", "Armed clash"),
    "violence_against_civilians": ("Violence against civilians", "Attack"),
    "coup_attempt": ("Strategic developments", "Other"),
    "deployment": ("Strategic developments", "Headquarters or base established"),
    "withdrawal": ("Strategic developments", "Other"),
    "blockade": ("Violence against civilians", "Attack"),
    "advance": ("Strategic developments", "Other"),
    "coup": ("Strategic developments", "Other"),
    "drone_strike": ("Explosions/Remote violence", "Air/drone strike"),
    "recall": ("Strategic developments", "Other"),
    "return": ("Strategic developments", "Other"),
}
MECHANISM_NAMES = tuple(MECHANISMS)
# Mechanisms whose events ACLED codes as violence against civilians: every death in them is a
# civilian fatality in ACLED's count (its codebook), whoever the victim was in the model.
CIVILIAN_TARGETING_MECHANISMS = tuple(name for name, (event_type, _) in MECHANISMS.items()
                                      if event_type == "Violence against civilians")
COMPLEX_ATTACK = MECHANISM_NAMES.index("complex_attack")
_NO_EVENTS = np.zeros((0, 4), dtype=np.int64)

_EVENT_COLUMNS = (("day", np.int32), ("cell", np.int64), ("mechanism", np.int8),
                  ("actor1", np.int16), ("actor2", np.int16))
_CASUALTY_COLUMNS = (("event", np.int64), ("victim", np.int16), ("perpetrator", np.int16),
                     ("killed", np.int64), ("wounded", np.int64))
_CLAIM_COLUMNS = (("event", np.int64), ("enemy", np.int16))


class _Table:
    """Columns of one growing table, with amortised appends."""

    __slots__ = ("capacity", "columns", "names", "size")

    def __init__(self, spec: tuple[tuple[str, type], ...], capacity: int) -> None:
        self.names = [name for name, _ in spec]
        self.columns = [np.zeros(capacity, dtype=dtype) for _, dtype in spec]
        self.capacity = capacity
        self.size = 0

    def append(self, n: int, *values: object) -> slice:
        """Append n rows; `values` are the columns in order (arrays of n, or scalars)."""
        start = self.size
        self.reserve(n)
        for col, value in zip(self.columns, values, strict=True):
            col[start:start + n] = value
        self.size = start + n
        return slice(start, start + n)

    def reserve(self, n: int) -> None:
        """Make room for n more rows."""
        end = self.size + n
        if end > self.capacity:
            self.capacity = max(end, 2 * self.capacity)
            for i, col in enumerate(self.columns):
                grown = np.zeros(self.capacity, dtype=col.dtype)
                grown[:self.size] = col[:self.size]
                self.columns[i] = grown

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[self.names.index(name)][:self.size]


class Ledger:
    """Events and casualties of one run."""

    def __init__(self, n_factions: int, capacity: int = 8192) -> None:
        self.n_factions = n_factions
        self.events = _Table(_EVENT_COLUMNS, capacity)
        self.casualties = _Table(_CASUALTY_COLUMNS, 2 * capacity)
        self.claims = _Table(_CLAIM_COLUMNS, 64)
        self.notes: dict[int, str] = {}
        self.day = -1
        self._day_start = (0, 0)  # first event and first casualty row of the current day
        self._today: Today | None = None
        self._today_stamp = (-1, -1, -1)
        self._sums: Today | None = None  # the arrays `today` fills, reused day after day
        self._deaths_rows = (0, 0)  # the casualty rows last summed into its deaths per cell

    def open_day(self, day: int) -> None:
        """Start booking the given day."""
        self.day = day
        self._day_start = (self.events.size, self.casualties.size)

    def add_events(self, mechanism: str | np.ndarray, cells: np.ndarray,
                   actor1: np.ndarray | int, actor2: np.ndarray | int,
                   note: str = "") -> np.ndarray:
        """Log events today (one mechanism by name, or codes per event); returns their ids."""
        code = MECHANISM_NAMES.index(mechanism) if isinstance(mechanism, str) else mechanism
        rows = self.events.append(np.size(cells), self.day, cells, code, actor1, actor2)
        if note:
            for i in range(rows.start, rows.stop):
                self.notes[i] = note
        return np.arange(rows.start, rows.stop)

    def book(self, events: np.ndarray | int, victim: np.ndarray | int,
             perpetrator: np.ndarray | int, killed: np.ndarray | int,
             wounded: np.ndarray | int = 0) -> None:
        """Book casualties: one row per (event, victim category, perpetrator)."""
        n = int(np.broadcast(events, victim, perpetrator, killed, wounded).size)
        if n:
            self.casualties.append(n, events, victim, perpetrator, killed, wounded)

    def claim(self, events: np.ndarray, enemies: np.ndarray) -> None:
        """Record that the perpetrators of `events` reported their dead as `enemies`' fighters."""
        self.claims.append(np.size(events), events, enemies)

    def claimed_enemy(self) -> np.ndarray:
        """(events,) the faction each event's dead were reported as fighters of, else NONE."""
        out = np.full(self.events.size, NONE, dtype=np.int64)
        out[self.claims["event"]] = self.claims["enemy"]
        return out

    def log(self, events: np.ndarray, casualties: np.ndarray) -> None:
        """Log a kernel's events and casualties today in one go.

        Args:
            events: (K, 4) int64 rows: cell, mechanism code, actor1, actor2.
            casualties: (R, 5) int64 rows: index of the event among `events`, victim
                category, perpetrator, killed, wounded.
        """
        self._put(events, casualties, self.events.size)

    def book_rows(self, casualties: np.ndarray) -> None:
        """Book casualty rows (R, 5) of events already logged (column 0: their ids)."""
        self._put(_NO_EVENTS, casualties, 0)

    def _put(self, events: np.ndarray, casualties: np.ndarray, event_offset: int) -> None:
        ev, cas = self.events, self.casualties
        ev.reserve(len(events))
        cas.reserve(len(casualties))
        put_rows(self.day, events, casualties, ev.size, event_offset, cas.size, *ev.columns,
                 *cas.columns)
        ev.size += len(events)
        cas.size += len(casualties)

    def today(self, world: World) -> Today:
        """Sums over today's rows so far (cached until the next booking).

        The same `Today` and arrays come back from call to call, refilled (the deaths per
        cell cleared and written only in the cells with deaths): read them before the next
        booking.
        """
        stamp = (self.day, self.events.size, self.casualties.size)
        if self._today is None or self._today_stamp != stamp:
            (e0, c0), ev, cas = self._day_start, self.events.columns, self.casualties.columns
            sums = self._sums
            if sums is None or sums.deaths_per_cell.size != world.n_cells:
                n = world.capital_cell.size
                sums = self._sums = Today(
                    np.zeros(world.n_cells), np.zeros((world.grievance.shape[0], self.n_factions)),
                    np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.bool_))
                self._deaths_rows = (0, 0)
            summarise_day(ev[1], ev[2], e0, self.events.size, cas[0], cas[1], cas[2], cas[3], c0,
                          self.casualties.size, world.region, world.country_bucket,
                          world.state_side, world.capital_cell, *self._deaths_rows,
                          sums.deaths_per_cell, sums.civilian_deaths, sums.enemies_killed,
                          sums.state_killed, sums.capital_attacked, COMPLEX_ATTACK)
            self._today, self._today_stamp = sums, stamp
            self._deaths_rows = (c0, self.casualties.size)
        return self._today

    def add_deaths_today(self, world: World, cumulative: np.ndarray) -> None:
        """Add today's deaths per cell to `cumulative` (C,), in the cells with deaths only."""
        deaths = self.today(world).deaths_per_cell
        cas = self.casualties.columns
        add_cell_deaths(cumulative, deaths, self.events.columns[1], cas[0], *self._deaths_rows)
        self._today = None  # its deaths_per_cell was spent

    # Whole-run views, for the outputs.
    def wounded_today(self) -> np.ndarray:
        """(F,) fighters of each faction wounded today."""
        return self._fighters_today(np.zeros(0, dtype=np.int64), 1)[0]

    def fighters_killed_today(self, region: np.ndarray, n_regions: int) -> np.ndarray:
        """(F, regions) fighters of each faction killed today by another faction, by region."""
        return self._fighters_today(region, n_regions)[1]

    def _fighters_today(self, region: np.ndarray, n_regions: int
                        ) -> tuple[np.ndarray, np.ndarray]:
        cas = self.casualties.columns
        return fighters_today(self.events.columns[1], cas[0], cas[1], cas[2], cas[3], cas[4],
                              self._day_start[1], self.casualties.size, region, self.n_factions,
                              n_regions)

    def casualty_cells(self) -> np.ndarray:
        """Cell of every casualty row."""
        return self.events["cell"][self.casualties["event"]]

    def casualty_days(self) -> np.ndarray:
        """Day of every casualty row."""
        return self.events["day"][self.casualties["event"]]

    def event_fatalities(self) -> np.ndarray:
        """Deaths of each event."""
        return np.bincount(self.casualties["event"], weights=self.casualties["killed"],
                           minlength=self.events.size).astype(np.int64)

    def civilians_killed(self, country_bucket: np.ndarray) -> np.ndarray:
        """(3,) civilians killed in each country so far."""
        civilians = self.casualties["victim"] < N_GROUPS
        country = country_bucket[self.casualty_cells()[civilians]]
        return np.bincount(country, weights=self.casualties["killed"][civilians],
                           minlength=N_COUNTRIES + 1)[:N_COUNTRIES]

    def killed_cube(self, days: int, country_bucket: np.ndarray) -> np.ndarray:
        """Deaths as (day, country or abroad, victim: civilians then factions, perpetrator)."""
        f = self.n_factions
        out = np.zeros((days, N_COUNTRIES + 1, f + 1, f), dtype=np.int64)
        victim = self.casualties["victim"].astype(np.int64)
        victim = np.where(victim < N_GROUPS, 0, victim - N_GROUPS + 1)
        np.add.at(out, (self.casualty_days(), country_bucket[self.casualty_cells()], victim,
                        self.casualties["perpetrator"]), self.casualties["killed"])
        return out

    def wounded_cube(self, days: int, country_bucket: np.ndarray) -> np.ndarray:
        """Wounded fighters as (day, country or abroad, faction)."""
        out = np.zeros((days, N_COUNTRIES + 1, self.n_factions), dtype=np.int64)
        fighters = self.casualties["victim"] >= N_GROUPS
        np.add.at(out, (self.casualty_days()[fighters],
                        country_bucket[self.casualty_cells()[fighters]],
                        self.casualties["victim"][fighters] - N_GROUPS),
                  self.casualties["wounded"][fighters])
        return out


@dataclass(frozen=True, slots=True)
class Today:
    """What the processes need to know of today's events and casualties."""

    deaths_per_cell: np.ndarray  # (C,) deaths in each cell
    civilian_deaths: np.ndarray  # (communities, F) civilians killed by perpetrator
    enemies_killed: np.ndarray  # (3,) armed-group fighters killed by the state side
    state_killed: np.ndarray  # (3,) state-side fighters killed
    capital_attacked: np.ndarray  # (3,) a complex attack hit the junta's capital


@numba.njit(cache=True)
def fighters_today(event_cell, event, victim, perpetrator, killed, wounded, first, end, region,
                   n_factions, n_regions):
    """Fighters wounded today (F,), and killed by another faction by region (F, regions).

    One pass over today's rows; an empty `region` (C,) skips the second sum.
    """
    hurt = np.zeros(n_factions)
    dead = np.zeros((n_factions, n_regions))
    for r in range(first, end):
        if victim[r] < N_GROUPS:
            continue
        f = victim[r] - N_GROUPS
        hurt[f] += wounded[r]
        if region.size and perpetrator[r] != f and region[event_cell[event[r]]] >= 0:
            dead[f, region[event_cell[event[r]]]] += killed[r]
    return hurt, dead


@numba.njit(cache=True)
def put_rows(day, events, casualties, first_event, event_offset, first_casualty, day_col,
             cell_col, mech_col, actor1_col, actor2_col, event_col, victim_col,
             perpetrator_col, killed_col, wounded_col) -> None:
    """Write rows into the tables' columns from `first_*` (room already made).

    A casualty's event id is `event_offset` plus its column 0.
    """
    for k in range(events.shape[0]):
        e = first_event + k
        day_col[e] = day
        cell_col[e] = events[k, 0]
        mech_col[e] = events[k, 1]
        actor1_col[e] = events[k, 2]
        actor2_col[e] = events[k, 3]
    for r in range(casualties.shape[0]):
        c = first_casualty + r
        event_col[c] = event_offset + casualties[r, 0]
        victim_col[c] = casualties[r, 1]
        perpetrator_col[c] = casualties[r, 2]
        killed_col[c] = casualties[r, 3]
        wounded_col[c] = casualties[r, 4]


@numba.njit(cache=True)
def summarise_day(event_cell, event_mechanism, first_event, end_event, event, victim,
                  perpetrator, killed, first_casualty, end_casualty, region, country, state_side,
                  capital_cell, first_stale, end_stale, deaths, civilian, enemies, own, attacked,
                  complex_attack) -> None:
    """Fill the arrays of `Today` from today's ledger rows (events, casualties from `first_*`).

    `deaths` (C,) is zero but in the cells of the casualty rows `first_stale`..`end_stale`
    (the last summary's), which are cleared first: no pass over every cell. Filling arrays
    kept by the ledger, rather than returning new ones, spares their allocation and boxing.
    """
    for r in range(first_stale, end_stale):
        deaths[event_cell[event[r]]] = 0.0
    n_countries = capital_cell.size
    civilian[:] = 0.0
    enemies[:] = 0.0
    own[:] = 0.0
    attacked[:] = False
    for r in range(first_casualty, end_casualty):
        c = event_cell[event[r]]
        deaths[c] += killed[r]
        k = country[c]
        if victim[r] < N_GROUPS:
            if region[c] >= 0:
                civilian[region[c] * N_GROUPS + victim[r], perpetrator[r]] += killed[r]
        elif k < n_countries:
            fighter = victim[r] - N_GROUPS
            if state_side[fighter]:
                own[k] += killed[r]
            elif state_side[perpetrator[r]]:
                enemies[k] += killed[r]
    for e in range(first_event, end_event):
        if event_mechanism[e] == complex_attack:
            for k in range(n_countries):
                if event_cell[e] == capital_cell[k]:
                    attacked[k] = True


@numba.njit(cache=True)
def add_cell_deaths(cumulative, deaths, event_cell, event, first_casualty, end_casualty):
    """Add `deaths` (C,) to `cumulative` in the cells of the casualty rows, each cell once."""
    for r in range(first_casualty, end_casualty):
        c = event_cell[event[r]]
        if deaths[c] != 0.0:
            cumulative[c] += deaths[c]
            deaths[c] = 0.0
