"""The coordinators' map: the page (with a table of the busiest places) and its GeoJSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from xstatic.pkg import leaflet

from ... import localtime, vocab
from ...coordinator import choropleth, reach, stats
from ...coordinator import map as coverage_map
from ...i18n import get_locale
from ...i18n import gettext as _
from ...web import render, run_db
from .common import filters_or_errors, page_context, reference, within_default_period

# Leaflet for the map comes from the xstatic-leaflet package, served by the app (no CDN).
LEAFLET_DIR = leaflet.BASE_DIR


def _map_data(db, locale: str, params) -> dict:
    ref = reference(db, locale)
    f, errors = filters_or_errors(params, ref)
    if not errors:
        f = within_default_period(f, localtime.zone_of(db))
    points = coverage_map.points(db, f) if not errors else {"encounters": [], "reports": []}
    shaded = None
    if not errors and f.start and f.end:
        # The zones' own shapes, shaded by reach: readable with no tiles and no script.
        by_zone = reach.by_zone(db, stats.Period(f.start, f.end, f.zone))
        shaded = choropleth.draw(choropleth.outlines(db, f.zone), {r.code: r.per_1000 for r in by_zone})
        by_zone = reach.ranked(by_zone)
    return {"ref": ref, "f": f, "errors": errors, "points": points, "centre": coverage_map.centre(db),
            "zones": coverage_map.zone_centres(db, f.zone), "choropleth": shaded,
            "reach": by_zone if shaded else []}


async def map_page(request: Request):
    data = await run_db(request, _map_data, get_locale(), request.query_params)
    return render(request, "coordinator/map.html", page_context(**data), status_code=400 if data["errors"] else 200)


async def map_data(request: Request):
    """The map's points as RFC 7946 GeoJSON ([lon, lat]); locations are already rounded (~100 m)."""
    data = await run_db(request, _map_data, get_locale(), request.query_params)
    if data["errors"]:
        return JSONResponse({"error": _("Some filters are not valid."), "detail": data["errors"]}, 400)
    return JSONResponse(coverage_map.feature_collection(data["points"], data["zones"], data["ref"]["zones"],
                                                        vocab.REPORT_STATES.plain()))
