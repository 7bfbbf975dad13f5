"""The zone of a position: point-in-polygon over the active zones' boundaries.

The index (a shapely STRtree of prepared polygons) is built once per process and kept while
the zones' fingerprint (codes, shape hashes, active flags) stays the same: the check is one
small query over the zones table, so the sync path pays for a rebuild only after an import.
A point on a border shared by several zones goes to the smallest code among the zones whose
closed polygon covers it, so the answer never depends on the order of the file or of the tree.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import shapely
from shapely.geometry import shape
from sqlite_utils import Database

from ..coordinator import stats

_lock = threading.Lock()
_cache: dict[str, "ZoneIndex"] = {}  # fingerprint -> index (the fingerprint describes the content)

_FINGERPRINT = (
    "select group_concat(code || ':' || shape_hash, ',') from "
    "(select code, shape_hash from zones where active = 1 and boundary is not null order by code)"
)


class ZoneIndex:
    """Active zones' polygons in code order, queried through an STRtree."""

    def __init__(self, rows: list[tuple[str, str]]):
        rows = sorted(rows)
        self.codes = [code for code, _ in rows]
        self.geoms = np.array([shape(json.loads(boundary)) for _, boundary in rows], dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)

    def __bool__(self) -> bool:
        return bool(self.codes)

    def locate_many(self, lons, lats) -> list[str | None]:
        """The zone code of each point (None outside every zone); the smallest code on a shared border."""
        n = len(lons)
        if not n or not self.codes:
            return [None] * n
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        hits = self.tree.query(points, predicate="intersects")  # closed polygons: borders count
        best = np.full(n, len(self.codes), dtype=np.int64)
        # Tree geometries are in code order, so the smallest index is the smallest code.
        np.minimum.at(best, hits[0], hits[1])
        return [self.codes[i] if i < len(self.codes) else None for i in best.tolist()]

    def locate(self, lon: float, lat: float) -> str | None:
        return self.locate_many([lon], [lat])[0]


def index(db: Database) -> ZoneIndex:
    """This process's index of the active zones' boundaries, rebuilt when they changed."""
    key = db.execute(_FINGERPRINT).fetchone()[0] or ""
    found = _cache.get(key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(key)
        if found is None:
            rows = db.execute(
                "select code, boundary from zones where active = 1 and boundary is not null"
            ).fetchall()
            found = ZoneIndex([(c, b) for c, b in rows])
            if len(_cache) > 8:  # old versions after imports, or other databases in tests
                _cache.clear()
            _cache[key] = found
    return found


def outlines(db: Database) -> dict[str, dict]:
    """Simplified outlines of the active zones (GeoJSON geometries by code), for the phone."""
    return {code: json.loads(outline) for code, outline in db.execute(
        "select code, outline from zones where active = 1 and outline is not null order by code")}


def zone_at(db: Database, lat: float, lon: float) -> str | None:
    """The active zone containing the point, or None."""
    return index(db).locate(lon, lat)


class Filler:
    """Zones for entries of one batch that have a position and no zone; reads the index once, if needed."""

    def __init__(self, db: Database):
        self.db = db
        self._index: ZoneIndex | None = None

    def __call__(self, location: dict | None) -> str | None:
        if not location or location.get("lat") is None or location.get("lon") is None:
            return None
        if self._index is None:
            self._index = index(self.db)
        return self._index.locate(location["lon"], location["lat"]) if self._index else None


def assign_past(db: Database, batch: int = 200_000) -> dict[str, int]:
    """Give a zone to stored encounters and reports that have a position and none; counts per table.

    Encounter positions are rounded (about 100 m), so each distinct position is located once.
    Changing an encounter's zone moves its counts in the aggregates (``stats.set_zones``).
    """
    idx = index(db)
    counts = {"encounters": 0, "reports": 0}
    if not idx:
        return counts
    for table in ("encounters", "reports"):
        rows = db.execute(f"select id, lat, lon from [{table}] where zone is null and lat is not null and lon is not null").fetchall()
        if not rows:
            continue
        places = sorted({(lat, lon) for _, lat, lon in rows})
        found = idx.locate_many([p[1] for p in places], [p[0] for p in places])
        zone_of = {p: z for p, z in zip(places, found) if z is not None}
        updates = [(zone_of[(lat, lon)], rid) for rid, lat, lon in rows if (lat, lon) in zone_of]
        for start in range(0, len(updates), batch):
            if table == "encounters":
                stats.set_zones(db, updates[start:start + batch])  # moves the coverage counts too
            else:
                db.conn.executemany("update reports set zone = ? where id = ?", updates[start:start + batch])
        counts[table] = len(updates)
    return counts
