"""The zone of a position: point-in-polygon over the active zones' boundaries.

The index (a shapely STRtree of prepared polygons) is built once per process and kept while
the zones' fingerprint (codes, shape hashes, active flags) stays the same: the check is one
small query over the zones table, so the sync path pays for a rebuild only after an import.
shapely and numpy (some 25 MB) are imported only when there are boundaries to index: a server
that never places a point, or has no boundaries, never loads them.
A point on a border shared by several zones goes to the smallest code among the zones whose
closed polygon covers it, so the answer never depends on the order of the file or of the tree.
"""

from __future__ import annotations

import json
import threading

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
        self.tree = None
        if not rows:
            return
        import numpy as np
        import shapely
        from shapely.geometry import shape

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
        import numpy as np
        import shapely

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


def _zones_of(idx: ZoneIndex, rows: list[tuple]) -> list[tuple[str, object]]:
    """``(zone, key)`` for each ``(key, lat, lon)`` row inside a zone; each distinct position located once."""
    places: dict[tuple[float, float], int] = {}
    at = [places.setdefault((lat, lon), len(places)) for _, lat, lon in rows]
    found = idx.locate_many([lon for _, lon in places], [lat for lat, _ in places])
    return [(found[i], row[0]) for row, i in zip(rows, at) if found[i] is not None]


_TO_PLACE = "where zone is null and lat is not null and lon is not null"


def assign_past(db: Database) -> dict[str, int]:
    """Give a zone to stored encounters and reports that have a position and none; counts per table.

    Encounters: their distinct positions (rounded to about 100 m: a few thousand) come from a
    partial index, are located in one vectorised query of the index, and go into a temporary
    table; ``stats.set_zones`` then moves the encounters at each position and their counts in
    the aggregates with a handful of set-wise statements.
    """
    idx = index(db)
    counts = {"encounters": 0, "reports": 0}
    if not idx:
        return counts
    conn = db.conn
    places = conn.execute(
        f"select distinct lat, lon from encounters indexed by idx_encounters_to_place {_TO_PLACE}").fetchall()
    if places:
        found = idx.locate_many([lon for _, lon in places], [lat for lat, _ in places])
        conn.execute("drop table if exists temp.zone_places")
        conn.execute("create temp table zone_places (lat real not null, lon real not null, zone text not null, "
                     "primary key (lat, lon)) without rowid")
        conn.executemany("insert into temp.zone_places values (?, ?, ?)",
                         [(lat, lon, z) for (lat, lon), z in zip(places, found) if z is not None])
        counts["encounters"] = stats.set_zones(
            db, "select e.rowid, p.zone from temp.zone_places p join encounters e indexed by idx_encounters_to_place "
                "on e.lat = p.lat and e.lon = p.lon where e.zone is null and e.lat is not null and e.lon is not null")
        conn.execute("drop table temp.zone_places")
    updates = _zones_of(idx, conn.execute(f"select id, lat, lon from reports {_TO_PLACE}").fetchall())
    conn.executemany("update reports set zone = ? where id = ?", updates)
    counts["reports"] = len(updates)
    return counts
