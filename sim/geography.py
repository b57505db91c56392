"""The Sahel grid: extent, resolution, countries, regions, terrain, towns and population.

Cells are indexed (x, y) = (longitude column from the west, latitude row from the south), the
layout of Mesa's `OrthogonalMooreGrid`; every layer is a numpy array of shape (nx, ny), and the
model works on its flat view, cell id = x * ny + y. The derivation of each layer is documented
in docs/ODD.md (Input data) and the bundled files in sim/data/SOURCES.md.
"""

from __future__ import annotations

import csv
import functools
import json
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

import numba
import numpy as np
from scipy.spatial import cKDTree

from sim.kernel_cache import ensure_cached

if TYPE_CHECKING:
    from mesa.discrete_space import OrthogonalMooreGrid

# The three countries of the model (ISO codes and names); cells elsewhere are "abroad".
COUNTRIES: dict[str, str] = {"MLI": "Mali", "BFA": "Burkina Faso", "NER": "Niger"}
N_COUNTRIES = len(COUNTRIES)
COUNTRY_CODES = (*COUNTRIES, "abroad")
ABROAD = N_COUNTRIES  # country bucket of cells outside the three countries
# Civilian community groups (population data: shares by region in data/communities.csv).
COMMUNITIES: tuple[str, ...] = ("fulani", "tuareg_arab", "bambara", "mossi", "other")

LON_MIN, LON_MAX = -12.5, 16.0
LAT_MIN, LAT_MAX = 9.0, 25.0
PRIO_CELL = 0.5
KM_PER_DEGREE = 111.32

# Country populations on which the grid is scaled: World Bank WDI SP.POP.TOTL, 2023
# (UN World Population Prospects based), people.
POPULATION_2023: dict[str, int] = {"MLI": 23_293_698, "BFA": 23_251_485, "NER": 27_202_843}

# Terrain classes by latitude of the cell centre: the 150 mm and 600 mm isohyets that bound the
# Sahel lie near 17.0 N and 13.5 N across the three countries (an approximation).
SUDANIAN, SAHELIAN, SAHARAN = 0, 1, 2
TERRAIN_NAMES = ("Sudanian", "Sahelian", "Saharan")
SAHARA_LAT, SUDAN_LAT = 17.0, 13.5

# Rural population density falls off northward: weight = exp(-(lat - 10) / RURAL_SCALE_DEG),
# times SAHARAN_DENSITY in the Sahara. Towns add their GeoNames population to their cell.
RURAL_SCALE_DEG = 2.2
SAHARAN_DENSITY = 0.03
URBAN_MAX_SHARE = 0.6

ALIASES = {
    "tombouctou": "timbuktu",
    "tin-zaouatene": "tinzaouaten",
    "tin zaouatene": "tinzaouaten",
    "tinzawaten": "tinzaouaten",
    "tinzwatene": "tinzaouaten",
    "menaka": "menaka",
    "fada n'gourma": "fada n'gourma",
    "fada": "fada n'gourma",
    "tillaberi": "tillaberi",
    "senou": "bamako",
}


@functools.lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """Lower-case, accent-free form of a place name, for lookups."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = " ".join(plain.lower().replace("’", "'").split())
    return ALIASES.get(key, key)


@dataclass(frozen=True, slots=True)
class Town:
    """A populated place from GeoNames (or the documented supplement)."""

    name: str
    country: str
    lat: float
    lon: float
    population: int
    admin1: str
    cell: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Region:
    """A first-level administrative region (GeoNames admin1)."""

    country: str
    code: str
    name: str


@dataclass(slots=True)
class Geography:
    """Static layers of the Sahel grid at one resolution (shared, read-only)."""

    resolution: float
    nx: int
    ny: int
    lon: np.ndarray  # (nx, ny) cell-centre longitude
    lat: np.ndarray  # (nx, ny) cell-centre latitude
    country: np.ndarray  # (nx, ny) int8 index into country_codes; 0 = outside every outline
    country_codes: tuple[str, ...]
    region: np.ndarray  # (nx, ny) int16 index into regions; -1 outside the three countries
    regions: tuple[Region, ...]
    terrain: np.ndarray  # (nx, ny) int8: SUDANIAN, SAHELIAN, SAHARAN
    prio_gid: np.ndarray  # (nx, ny) int32 PRIO-GRID gid
    population: np.ndarray  # (len(COMMUNITIES), nx, ny) float64 people by community
    towns: tuple[Town, ...]
    borders: dict[str, list[np.ndarray]] = field(repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """Grid dimensions (nx, ny)."""
        return (self.nx, self.ny)

    @property
    def n_cells(self) -> int:
        """Number of cells in the grid."""
        return self.nx * self.ny

    @property
    def cell_km(self) -> float:
        """Approximate north-south size of a cell in kilometres."""
        return self.resolution * KM_PER_DEGREE

    def country_index(self, iso3: str) -> int:
        """Index of a country code in `country_codes`."""
        return self.country_codes.index(iso3)

    def in_sahel(self) -> np.ndarray:
        """Mask of cells inside Mali, Burkina Faso or Niger."""
        return (self.country >= 1) & (self.country <= len(COUNTRIES))

    def cell_of(self, lat: float, lon: float) -> tuple[int, int]:
        """Grid cell containing a point; raises ValueError outside the grid."""
        if not (LAT_MIN <= lat < LAT_MAX and LON_MIN <= lon < LON_MAX):
            raise ValueError(
                f"point ({lat}, {lon}) is outside the grid lat {LAT_MIN}..{LAT_MAX}, "
                f"lon {LON_MIN}..{LON_MAX}")
        return (int((lon - LON_MIN) // self.resolution), int((lat - LAT_MIN) // self.resolution))

    def town(self, name: str) -> Town:
        """The most populous town of that name (accents and case ignored; 'Gao, MLI' works)."""
        wanted, _, country = name.partition(",")
        key = normalise(wanted)
        hits = [t for t in self.towns if normalise(t.name) == key
                and (not country.strip() or t.country == country.strip().upper())]
        if not hits:
            raise KeyError(name)
        return max(hits, key=lambda t: t.population)

    def town_names(self) -> list[str]:
        """Names of the towns in the three countries, most populous first."""
        inside = [t for t in self.towns if t.country in COUNTRIES]
        return [t.name for t in sorted(inside, key=lambda t: -t.population)]

    def population_by_country(self) -> dict[str, float]:
        """Total people per country on the grid."""
        total = self.population.sum(axis=0)
        return {iso: float(total[self.country == self.country_index(iso)].sum())
                for iso in COUNTRIES}


def _data_text(name: str) -> str:
    return resources.files("sim.data").joinpath(name).read_text(encoding="utf-8")


def _read_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_data_text(name).splitlines()))


def load_borders() -> dict[str, list[np.ndarray]]:
    """Country outlines (lon, lat rings) from the bundled Natural Earth file, by ISO3 code."""
    data = json.loads(_data_text("borders.geojson"))
    out: dict[str, list[np.ndarray]] = {}
    for feature in data["features"]:
        geom = feature["geometry"]
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        rings = [np.asarray(poly[0], dtype=float) for poly in polygons]
        out.setdefault(feature["properties"]["iso_a3"], []).extend(rings)
    return out


def prio_gid(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """PRIO-GRID v2 cell id of points: rows from the south pole, 720 columns per row."""
    row = np.floor((lat + 90.0) / PRIO_CELL).astype(np.int64)
    col = np.floor((lon + 180.0) / PRIO_CELL).astype(np.int64)
    return (row * 720 + col + 1).astype(np.int32)


def _rasterise_countries(
    lon: np.ndarray, lat: np.ndarray, borders: dict[str, list[np.ndarray]]
) -> tuple[np.ndarray, tuple[str, ...]]:
    codes = ("", *COUNTRIES, *sorted(c for c in borders if c not in COUNTRIES))
    points = np.column_stack([lon.ravel(), lat.ravel()])
    country = np.zeros(points.shape[0], dtype=np.int8)
    inside = np.zeros(points.shape[0], dtype=bool)
    for index, iso in enumerate(codes[1:], start=1):
        for ring in borders.get(iso, []):
            points_in_ring(points[:, 0], points[:, 1], ring[:, 0].copy(), ring[:, 1].copy(),
                           inside)
            country[inside & (country == 0)] = index
    return country.reshape(lon.shape), codes


@numba.njit(cache=True)
def points_in_ring(px, py, vx, vy, out) -> None:
    """Which points lie inside a polygon ring, into `out`: the crossing-number test.

    The same test and boundary rule as matplotlib's `Path.contains_points` (which sim no
    longer imports for this: it cost some 13 MB per process); the ring is closed back to
    its first vertex.
    """
    n = vx.size
    for p in range(px.size):
        tx, ty = px[p], py[p]
        inside = False
        x0, y0 = vx[0], vy[0]
        above0 = y0 >= ty
        for i in range(1, n + 1):
            x1, y1 = (vx[i], vy[i]) if i < n else (vx[0], vy[0])
            above1 = y1 >= ty
            if above0 != above1 and (((y1 - ty) * (x0 - x1) >= (x1 - tx) * (y0 - y1))
                                     == above1):
                inside = not inside
            above0, x0, y0 = above1, x1, y1
        out[p] = inside


def _assign_regions(
    lon: np.ndarray, lat: np.ndarray, country: np.ndarray, codes: tuple[str, ...]
) -> tuple[np.ndarray, tuple[Region, ...]]:
    """Each cell takes the admin1 region of the nearest GeoNames place in its country."""
    names = {(r["country_iso3"], r["admin1_code"]): r["name"] for r in _read_csv("admin1.csv")}
    regions = tuple(Region(c, code, name) for (c, code), name in names.items())
    index = {(r.country, r.code): i for i, r in enumerate(regions)}
    places = _read_csv("towns.csv")
    region = np.full(lon.shape, -1, dtype=np.int16)
    for iso in COUNTRIES:
        rows = [p for p in places if p["country_iso3"] == iso]
        tree = cKDTree([(float(p["lon"]), float(p["lat"])) for p in rows])
        mask = country == codes.index(iso)
        _, nearest = tree.query(np.column_stack([lon[mask], lat[mask]]))
        region[mask] = [index[(iso, rows[i]["admin1_code"])] for i in nearest]
    return region, regions


def _claim_town_cells(country: np.ndarray, codes: tuple[str, ...], towns: tuple[Town, ...]) -> None:
    """A foreign cell holding a town of the three countries belongs to that town's country.

    The 1:110m outline is coarse: without this, border towns such as Tinzaouaten would sit in
    Algerian cells.
    """
    for town in towns:
        if town.country in COUNTRIES and codes[country[town.cell]] not in COUNTRIES:
            country[town.cell] = codes.index(town.country)


def _town_regions(region: np.ndarray, regions: tuple[Region, ...], towns: tuple[Town, ...]) -> None:
    """Cells of towns of 100,000 people or more take the town's own region (Bamako district)."""
    index = {(r.country, r.code): i for i, r in enumerate(regions)}
    for town in sorted(towns, key=lambda t: t.population):
        if town.population >= 100_000 and (town.country, town.admin1) in index:
            region[town.cell] = index[(town.country, town.admin1)]


def _load_towns(resolution: float) -> tuple[Town, ...]:
    towns = []
    for row in _read_csv("towns.csv"):
        lat, lon = float(row["lat"]), float(row["lon"])
        if not (LAT_MIN <= lat < LAT_MAX and LON_MIN <= lon < LON_MAX):
            continue
        cell = (int((lon - LON_MIN) // resolution), int((lat - LAT_MIN) // resolution))
        towns.append(Town(row["name"], row["country_iso3"], lat, lon,
                          int(row["population"] or 0), row["admin1_code"], cell))
    return tuple(towns)


def _distribute_population(
    lat: np.ndarray, country: np.ndarray, codes: tuple[str, ...], terrain: np.ndarray,
    region: np.ndarray, regions: tuple[Region, ...], towns: tuple[Town, ...],
) -> np.ndarray:
    """People per cell and community: towns in place, the rest rural by latitude and terrain."""
    total = np.zeros(lat.shape)
    for iso, people in POPULATION_2023.items():
        mask = country == codes.index(iso)
        urban = np.zeros(lat.shape)
        for town in towns:
            if town.country == iso and mask[town.cell]:
                urban[town.cell] += town.population
        scale = min(1.0, URBAN_MAX_SHARE * people / max(urban.sum(), 1.0))
        urban *= scale
        weight = np.exp(-(lat - 10.0) / RURAL_SCALE_DEG)
        weight = np.where(terrain == SAHARAN, weight * SAHARAN_DENSITY, weight) * mask
        rural = (people - urban.sum()) * weight / weight.sum()
        total += urban + rural
    shares = np.zeros((len(regions), len(COMMUNITIES)))
    region_index = {(r.country, r.code): i for i, r in enumerate(regions)}
    for row in _read_csv("communities.csv"):
        i = region_index[(row["country_iso3"], row["admin1_code"])]
        shares[i] = [float(row[c]) for c in COMMUNITIES]
    shares /= shares.sum(axis=1, keepdims=True).clip(min=1e-12)
    cell_shares = np.where(region[None] >= 0, shares[region].transpose(2, 0, 1), 0.0)
    return cell_shares * total[None]


@functools.lru_cache(maxsize=8)
def build_geography(resolution: float = 0.25) -> Geography:
    """Build (once per resolution, then cached) the static layers of the grid."""
    ratio = PRIO_CELL / resolution
    if abs(ratio - round(ratio)) > 1e-9:
        raise ValueError(f"resolution {resolution} must divide {PRIO_CELL} degrees")
    ensure_cached()
    nx = round((LON_MAX - LON_MIN) / resolution)
    ny = round((LAT_MAX - LAT_MIN) / resolution)
    lon_c = LON_MIN + (np.arange(nx) + 0.5) * resolution
    lat_c = LAT_MIN + (np.arange(ny) + 0.5) * resolution
    lon, lat = np.meshgrid(lon_c, lat_c, indexing="ij")
    borders = load_borders()
    country, codes = _rasterise_countries(lon, lat, borders)
    terrain = np.where(lat >= SAHARA_LAT, SAHARAN,
                       np.where(lat >= SUDAN_LAT, SAHELIAN, SUDANIAN)).astype(np.int8)
    towns = _load_towns(resolution)
    _claim_town_cells(country, codes, towns)
    region, regions = _assign_regions(lon, lat, country, codes)
    _town_regions(region, regions, towns)
    population = _distribute_population(lat, country, codes, terrain, region, regions, towns)
    geo = Geography(resolution, nx, ny, lon, lat, country, codes, region, regions, terrain,
                    prio_gid(lat, lon), population, towns, borders)
    for array in (lon, lat, country, region, terrain, geo.prio_gid, population):
        array.setflags(write=False)
    return geo


def make_grid(geo: Geography, random: object | None = None) -> OrthogonalMooreGrid:
    """A Mesa grid over the geography, with its static layers as property layers."""
    from mesa.discrete_space import OrthogonalMooreGrid, PropertyLayer

    grid = OrthogonalMooreGrid(geo.shape, torus=False, random=random)
    for name, array in (("country", geo.country), ("region", geo.region),
                        ("terrain", geo.terrain), ("prio_gid", geo.prio_gid)):
        grid.add_property_layer(PropertyLayer.from_data(name, np.ascontiguousarray(array)))
    return grid


def moore_neighbours(nx: int, ny: int) -> np.ndarray:
    """(n_cells, 9) flat ids of each cell and its Moore neighbours (self where off-grid)."""
    x, y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    out = np.empty((nx * ny, 9), dtype=np.int32)
    k = 0
    for dx in (0, -1, 1):
        for dy in (0, -1, 1):
            xx, yy = x + dx, y + dy
            valid = (xx >= 0) & (xx < nx) & (yy >= 0) & (yy < ny)
            out[:, k] = np.where(valid, xx * ny + yy, x * ny + y).ravel()
            k += 1
    return out
