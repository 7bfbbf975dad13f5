"""Reading a city's neighbourhood file: a GeoJSON FeatureCollection of Polygon/MultiPolygon
areas in WGS 84 longitude/latitude, with the properties an admin names for code, name,
population and population by age band.

Every problem found is reported with the feature it concerns (its number and, when known, its
code), all at once, so an admin fixes the file in one go; nothing is written by this module.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..i18n import gettext as _

MAX_FILE_BYTES = 20 * 1024 * 1024  # a city's IRIS contours are 1 to 5 MB
MAX_FEATURES = 2000
MAX_PROBLEMS = 30
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}\Z")
# Coordinates beyond these are not degrees: Lambert-93 (EPSG:2154) metres are in the
# hundreds of thousands, Web Mercator in the hundreds of thousands to millions.
PROJECTED_HINT = 1000.0
WGS84_NAMES = ("crs84", "epsg::4326", "epsg:4326", "wgs84", "wgs 84")


class ZoneFileError(ValueError):
    """The file cannot be imported; ``problems`` are readable messages, each naming its feature."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Mapping:
    """Which properties of each feature give the code, the name, the population and its age bands."""

    code: str
    name: str
    population: str
    age_bands: dict[str, str] = field(default_factory=dict)  # band code -> property name


@dataclass
class ZoneFeature:
    number: int  # 1-based position in the file, for messages
    code: str
    name: str
    population: int
    ages: dict[str, int]
    geometry: BaseGeometry
    repaired: bool = False


def _who(number: int, code: str | None) -> str:
    if code:
        return _("Feature {n} (code “{code}”)").format(n=number, code=code)
    return _("Feature {n}").format(n=number)


def _count(value: object) -> int | None:
    """A head count: a non-negative number (INSEE gives decimals), or digits in a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 10**8:
        return int(round(value))
    return None


def _flat_coordinates(coords, depth: int):
    """Every position of a Polygon (depth 3) or MultiPolygon (depth 4) as (x, y); ValueError if malformed."""
    if depth == 1:
        if not isinstance(coords, list) or len(coords) < 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in coords[:2]
        ):
            raise ValueError
        yield coords[0], coords[1]
        return
    if not isinstance(coords, list) or not coords:
        raise ValueError
    for part in coords:
        yield from _flat_coordinates(part, depth - 1)


def _crs_problem(doc: dict) -> str | None:
    crs = doc.get("crs")
    if crs is None:
        return None
    props = crs.get("properties") if isinstance(crs, dict) else None
    name = str(props.get("name", "")) if isinstance(props, dict) else ""
    if any(n in name.lower() for n in WGS84_NAMES):
        return None
    return _("The file declares the coordinate system “{crs}”: reproject it to WGS 84 longitude/latitude "
             "(EPSG:4326), e.g. with QGIS or ogr2ogr -t_srs EPSG:4326.").format(crs=name[:80] or "?")


def read(raw: bytes, mapping: Mapping, *, repair: bool = False) -> list[ZoneFeature]:
    """The zones of a GeoJSON file, checked; raises ZoneFileError with every problem found."""
    if len(raw) > MAX_FILE_BYTES:
        raise ZoneFileError([_("The file is {size} MB; the limit is {limit} MB.").format(
            size=round(len(raw) / 1_048_576, 1), limit=MAX_FILE_BYTES // 1_048_576)])
    try:
        doc = json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ZoneFileError([_("The file is not text in UTF-8: is it really a GeoJSON file?")])
    except json.JSONDecodeError as e:
        raise ZoneFileError([_("The file is not JSON (line {line}, column {col}).").format(line=e.lineno, col=e.colno)])
    except (ValueError, RecursionError):
        raise ZoneFileError([_("The file is not JSON.")])
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ZoneFileError([_("The file is not a GeoJSON FeatureCollection.")])
    crs = _crs_problem(doc)
    if crs:
        raise ZoneFileError([crs])
    features = doc["features"]
    if not features:
        raise ZoneFileError([_("The FeatureCollection has no features.")])
    if len(features) > MAX_FEATURES:
        raise ZoneFileError([_("The file has {n} features; at most {max} zones can be imported.").format(
            n=len(features), max=MAX_FEATURES)])
    problems: list[str] = []
    out: list[ZoneFeature] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features, start=1):
        if len(problems) >= MAX_PROBLEMS:
            problems.append(_("… and possibly more: fix these first."))
            break
        zone = _feature(i, feature, mapping, repair, problems)
        if zone is None:
            continue
        if zone.code in seen:
            problems.append(_("{who} repeats the code of feature {first}.").format(
                who=_who(i, zone.code), first=seen[zone.code]))
            continue
        seen[zone.code] = i
        out.append(zone)
    if problems:
        raise ZoneFileError(problems)
    return out


def _no_constant(name: str):
    raise ValueError(name)


def _feature(i: int, feature: object, m: Mapping, repair: bool, problems: list[str]) -> ZoneFeature | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(_("{who} is not a GeoJSON Feature.").format(who=_who(i, None)))
        return None
    props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    raw_code = props.get(m.code)
    code = str(raw_code).strip().lower() if isinstance(raw_code, (str, int)) and not isinstance(raw_code, bool) else ""
    who = _who(i, code or None)
    before = len(problems)
    if not code:
        problems.append(_("{who} has no code (property “{prop}”).").format(who=who, prop=m.code))
    elif not CODE_RE.match(code):
        problems.append(_("{who}: a code has 2 to 40 letters, digits, - or _.").format(who=who))
    name = props.get(m.name)
    name = " ".join(str(name).split())[:200] if isinstance(name, (str, int)) and not isinstance(name, bool) else ""
    if not name:
        problems.append(_("{who} has no name (property “{prop}”).").format(who=who, prop=m.name))
    population = _count(props.get(m.population))
    if population is None:
        problems.append(_("{who} has no population (property “{prop}” must be a number of residents).").format(
            who=who, prop=m.population))
    ages: dict[str, int] = {}
    for band, prop in m.age_bands.items():
        n = _count(props.get(prop))
        if n is None:
            problems.append(_("{who} has no population for the age band {band} (property “{prop}”).").format(
                who=who, band=band, prop=prop))
        else:
            ages[band] = n
    geometry, repaired = _geometry(who, feature.get("geometry"), repair, problems)
    if len(problems) > before or geometry is None:
        return None
    return ZoneFeature(i, code, name, population, ages, geometry, repaired)


def _geometry(who: str, geom: object, repair: bool, problems: list[str]) -> tuple[BaseGeometry | None, bool]:
    if not isinstance(geom, dict) or "type" not in geom:
        problems.append(_("{who} has no geometry.").format(who=who))
        return None, False
    kind = geom.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        problems.append(_("{who} is a {kind}: only areas (Polygon or MultiPolygon) can be zones.").format(
            who=who, kind=str(kind)[:40]))
        return None, False
    try:
        points = list(_flat_coordinates(geom.get("coordinates"), 3 if kind == "Polygon" else 4))
    except (ValueError, RecursionError):
        problems.append(_("{who} has malformed coordinates.").format(who=who))
        return None, False
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    if max(map(abs, xs)) > PROJECTED_HINT or max(map(abs, ys)) > PROJECTED_HINT:
        problems.append(_("{who} has coordinates in metres ({x:.0f}, {y:.0f}), not degrees: the file is in a projected "
                          "system such as Lambert-93. Reproject it to WGS 84 longitude/latitude (EPSG:4326).").format(
            who=who, x=xs[0], y=ys[0]))
        return None, False
    if max(map(abs, xs)) > 180 or max(map(abs, ys)) > 90:
        problems.append(_("{who} has coordinates out of range: longitude must be within ±180 and latitude within ±90.").format(
            who=who))
        return None, False
    try:
        shp = shape(geom)
    except (ValueError, TypeError, AttributeError, shapely.errors.ShapelyError):
        problems.append(_("{who} has malformed coordinates.").format(who=who))
        return None, False
    if shp.is_empty:
        problems.append(_("{who} has an empty geometry.").format(who=who))
        return None, False
    if shp.is_valid:
        return shp, False
    reason = shapely.is_valid_reason(shp)
    if not repair:
        problems.append(_("{who} has an invalid boundary ({reason}). Fix it in the file, or import with the "
                          "“repair” option (make_valid) to have it repaired.").format(who=who, reason=reason))
        return None, False
    fixed = _polygonal(shapely.make_valid(shp))
    if fixed is None:
        problems.append(_("{who} has an invalid boundary that cannot be repaired ({reason}).").format(who=who, reason=reason))
        return None, False
    return fixed, True


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """The areas of a repaired geometry (make_valid may add stray lines or points)."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]
