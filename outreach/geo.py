"""Distances on the ground and the zone a point falls near (reports, nearby look-ups)."""

from __future__ import annotations

import math

from sqlite_utils import Database

EARTH_RADIUS_M = 6_371_000
METRES_PER_DEGREE = 111_320  # of latitude, anywhere; of longitude, at the equator


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max) around a point: a cheap pre-filter before distance_m."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def nearest_zone(db: Database, lat: float, lon: float, max_km: float = 5.0) -> str | None:
    """The zone containing the point when zones have boundaries; else the active zone whose centre
    is nearest the point, within ``max_km``; None if none is."""
    from .zones import locate  # shapely is loaded only when a position needs a zone

    index = locate.index(db)
    if index:
        return index.locate(lon, lat)
    best, best_d = None, max_km * 1000
    for z in db.query("select code, lat, lon from zones where active = 1 and lat is not null"):
        d = distance_m(lat, lon, z["lat"], z["lon"])
        if d < best_d:
            best, best_d = z["code"], d
    return best
