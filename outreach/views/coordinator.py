"""Coordinator pages: dashboard, lists, outing report, map, planning, exports, follow-ups, devices, audit.

Views stay thin: parse the query or form, call the domain module, render. Filter errors are
shown on the page with a 400, never a 500.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, StreamingResponse
from xstatic.pkg import leaflet

from .. import labels, localtime, refdata
from ..coordinator import charts, exports, followups, planning, lists as queries, stats
from ..db import connect
from ..i18n import get_locale
from ..i18n import gettext as _
from ..coordinator.lists import FilterError, Filters
from ..web import current_user, read_form, render, run_db, write_db

# Leaflet for the map comes from the xstatic-leaflet package, served by the app (no CDN).
LEAFLET_DIR = leaflet.BASE_DIR


def today() -> date:
    return datetime.now(timezone.utc).date()


def reference(db, locale: str) -> dict:
    """Codes and labels of zones, tools and categories, inactive ones included (old data uses them)."""
    ref = refdata.load(db, locale, include_inactive=True)
    return {
        "zones": {z["code"]: z["label"] for z in ref["zones"]},
        "tools": {t["code"]: t["label"] for t in ref["tools"]},
        "categories": {c["code"]: c["label"] for c in ref["categories"]},
    }


def _filters(request: Request, ref: dict) -> tuple[Filters, dict]:
    try:
        return queries.parse_filters(request.query_params, {"zones": set(ref["zones"]), "tools": set(ref["tools"])}), {}
    except FilterError as e:
        return Filters(), e.errors


def _common(request: Request, ref: dict, **extra) -> dict:
    return {
        "ref": ref,
        "L": {
            "outcomes": labels.plain(labels.OUTCOMES),
            "interests": labels.plain(labels.INTERESTS),
            "place_types": labels.plain(labels.PLACE_TYPES),
            "formats": labels.plain(labels.FORMATS),
            "outing_statuses": labels.plain(labels.OUTING_STATUSES),
            "report_states": labels.plain(labels.REPORT_STATES),
            "roles": labels.plain(labels.ROLES),
            "channels": labels.plain(labels.CHANNELS),
        },
        **extra,
    }


# --- dashboard ------------------------------------------------------------------------------


def _dashboard_data(db, locale: str, params) -> dict:
    ref = reference(db, locale)
    errors: dict = {}
    period = stats.default_period(today())
    try:
        f = queries.parse_filters(
            {k: params.get(k) for k in ("start", "end", "zone") if params.get(k) is not None},
            {"zones": set(ref["zones"]), "tools": set(ref["tools"])},
        )
        # One bound alone keeps the default length (eight weeks) on the other side.
        if f.end and not f.start:
            start, end = stats.default_period(f.end).start, f.end
        else:
            start = f.start or period.start
            end = f.end or (period.end if not f.start or f.start <= period.end else f.start)
        if start > end:
            raise FilterError({"end": _("The end date is before the start date.")})
        if (end - start).days > 3 * 366:
            raise FilterError({"start": _("Choose a period of at most three years.")})
        period = stats.Period(start, end, f.zone)
    except FilterError as e:
        errors = e.errors
    o = stats.overview(db, period)
    zones_shown = [period.zone] if period.zone else list(ref["zones"])
    return {
        "ref": ref,
        "errors": errors,
        "o": o,
        "period": period,
        "tools_chart": charts.bars({t: v["presented"] for t, v in o["tools"].items()}, ref["tools"], order=ref["tools"]),
        "outcome_chart": charts.bars(o["outcome"], labels.plain(labels.OUTCOMES), order=labels.OUTCOMES),
        "interest_chart": charts.bars(o["interest"], labels.plain(labels.INTERESTS), order=labels.INTERESTS),
        "place_chart": charts.bars(o["place_type"], labels.plain(labels.PLACE_TYPES), order=labels.PLACE_TYPES),
        "report_chart": charts.bars(o["reports"], labels.plain(labels.REPORT_STATES), order=labels.REPORT_STATES),
        "zone_tool": charts.heat(o["zone_tool"], zones_shown, ref["tools"], dict(ref["zones"], **{"": _("No zone")}), ref["tools"]),
        "zone_week": charts.heat(o["zone_week"], zones_shown, o["weeks"], dict(ref["zones"], **{"": _("No zone")})),
        "upcoming": stats.upcoming_outings(db, today(), period.zone),
    }


async def dashboard(request: Request):
    data = await run_db(request, _dashboard_data, get_locale(), request.query_params)
    period = data["period"]
    data["filter_params"] = {"start": period.start.isoformat(), "end": period.end.isoformat(), **({"zone": period.zone} if period.zone else {})}
    return render(request, "coordinator/dashboard.html", _common(request, **data), status_code=400 if data["errors"] else 200)


# --- lists --------------------------------------------------------------------------------


def _list_data(db, locale: str, params, kind: str) -> dict:
    ref = reference(db, locale)
    errors: dict = {}
    try:
        f = queries.parse_filters(params, {"zones": set(ref["zones"]), "tools": set(ref["tools"])})
    except FilterError as e:
        f, errors = Filters(), e.errors
    page = {"rows": [], "next": None}
    if not errors:
        page = queries.encounters_page(db, f) if kind == "encounters" else queries.outings_page(db, f)
    return {"ref": ref, "f": f, "errors": errors, "page": page, "workers": queries.workers(db)}


async def encounter_list(request: Request):
    data = await run_db(request, _list_data, get_locale(), request.query_params, "encounters")
    return render(request, "coordinator/encounters.html", _common(request, **data), status_code=400 if data["errors"] else 200)


async def outing_list(request: Request):
    data = await run_db(request, _list_data, get_locale(), request.query_params, "outings")
    return render(request, "coordinator/outings.html", _common(request, **data), status_code=400 if data["errors"] else 200)


async def outing_report(request: Request):
    outing_id = request.path_params["outing_id"]
    if not queries.ID_RE.match(outing_id):
        raise HTTPException(404)

    def load(db):
        return reference(db, get_locale()), queries.outing_report(db, outing_id)

    ref, report = await run_db(request, load)
    if report is None:
        raise HTTPException(404, _("This outing does not exist."))
    return render(request, "coordinator/outing.html", _common(request, ref, r=report))


# --- map ----------------------------------------------------------------------------------


MAP_POINTS = 5000


def _map_points(db, f: Filters) -> dict:
    where, params = queries.encounter_where(f)
    where.append("e.lat is not null and e.lon is not null")
    enc = list(
        db.query(
            "select e.lat, e.lon, count(*) as n, sum(e.people_count) as people from encounters e where "
            + " and ".join(where) + " group by e.lat, e.lon order by n desc limit ?",
            params + [MAP_POINTS],
        )
    )
    rwhere, rparams = ["r.lat is not null", "r.lon is not null"], []
    if f.start:
        rwhere.append("r.received_at >= ?")
        rparams.append(f.start.isoformat())
    if f.end:
        rwhere.append("r.received_at < date(?, '+1 day')")
        rparams.append(f.end.isoformat())
    if f.zone:
        rwhere.append("r.zone = ?")
        rparams.append(f.zone)
    reports = list(
        db.query(
            "select r.id, r.title, r.status, round(r.lat, 3) as lat, round(r.lon, 3) as lon from reports r where "
            + " and ".join(rwhere) + " order by r.received_at desc limit ?",
            rparams + [MAP_POINTS],
        )
    )
    return {"encounters": enc, "reports": reports}


def _map_data(db, locale: str, params) -> dict:
    ref = reference(db, locale)
    errors: dict = {}
    try:
        f = queries.parse_filters(params, {"zones": set(ref["zones"]), "tools": set(ref["tools"])})
    except FilterError as e:
        f, errors = Filters(), e.errors
    if not errors and f.start is None and f.end is None:
        period = stats.default_period(today())
        f = replace(f, start=period.start, end=period.end)
    points = _map_points(db, f) if not errors else {"encounters": [], "reports": []}
    zones = list(db.query("select code, lat, lon from zones where active = 1 and lat is not null and lon is not null"))
    if f.zone:
        zones = [z for z in zones if z["code"] == f.zone]
    centre = next(iter(db.query("select avg(lat) as lat, avg(lon) as lon from zones where lat is not null")), None)
    return {"ref": ref, "f": f, "errors": errors, "points": points, "centre": centre, "zones": zones}


async def map_page(request: Request):
    data = await run_db(request, _map_data, get_locale(), request.query_params)
    return render(request, "coordinator/map.html", _common(request, **data), status_code=400 if data["errors"] else 200)


async def map_data(request: Request):
    """The map's points as RFC 7946 GeoJSON ([lon, lat]); locations are already rounded (~100 m)."""
    data = await run_db(request, _map_data, get_locale(), request.query_params)
    if data["errors"]:
        return JSONResponse({"error": _("Some filters are not valid."), "detail": data["errors"]}, 400)
    states = labels.plain(labels.REPORT_STATES)
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
         "properties": {"kind": "encounters", "count": p["n"], "people": p["people"]}}
        for p in data["points"]["encounters"]
    ] + [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
         "properties": {"kind": "report", "title": p["title"], "status": states.get(p["status"], p["status"])}}
        for p in data["points"]["reports"]
    ]
    # Zone names at their centres: something to read the map by when there are no tiles.
    features += [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [z["lon"], z["lat"]]},
         "properties": {"kind": "zone", "label": data["ref"]["zones"].get(z["code"], z["code"])}}
        for z in data["zones"]
    ]
    return JSONResponse({"type": "FeatureCollection", "features": features})


# --- planning -----------------------------------------------------------------------------


def _planning_data(db, locale: str) -> dict:
    return {
        "ref": reference(db, locale),
        "planned": planning.planned(db, today()),
        "members": [w for w in queries.workers(db) if w["active"]],
    }


async def planning_page(request: Request, errors: dict | None = None, values: dict | None = None, status: int = 200):
    data = await run_db(request, _planning_data, get_locale())
    done = request.query_params.get("done")
    return render(
        request,
        "coordinator/planning.html",
        _common(request, **data, errors=errors or {}, values=values or {"members": []}, done=done, today=today()),
        status_code=status,
    )


async def planning_submit(request: Request):
    form = await read_form(request)
    members = [str(m) for m in form.getlist("members")]
    values = {k: str(form.get(k, ""))[:200] for k in ("zone", "format", "planned_date", "planned_start", "planned_end",
                                                      "meeting_point", "meeting_lat", "meeting_lon")}
    values["members"] = members
    user = current_user(request)

    def save(db):
        plan = planning.validate(db, form, members, today())
        return planning.plan(db, plan, user["id"])

    try:
        await write_db(request, save)
    except planning.PlanError as e:
        return await planning_page(request, e.errors, values, 400)
    return RedirectResponse(request.url_for("planning").path + "?done=planned", status_code=303)


async def planning_cancel_confirm(request: Request):
    """GET: what cancelling this outing means (its team is told on their next sync), and the button."""
    outing_id = request.path_params["outing_id"]
    outing = await run_db(request, planning.cancellable, outing_id) if queries.ID_RE.match(outing_id) else None
    if outing is None:
        return await planning_page(request, {"_": _("This outing cannot be cancelled: it has started or does not exist.")}, None, 404)
    ref = await run_db(request, reference, get_locale())
    return render(request, "coordinator/planning_cancel.html", _common(request, ref, o=outing))


async def planning_cancel(request: Request):
    form = await read_form(request)
    outing_id = request.path_params["outing_id"]
    if form.get("confirm") != "yes":
        return RedirectResponse(request.url_for("planning_cancel_confirm", outing_id=outing_id).path
                                if queries.ID_RE.match(outing_id) else request.url_for("planning").path, status_code=303)
    user = current_user(request)
    ok = queries.ID_RE.match(outing_id) and await write_db(request, planning.cancel, outing_id, user["id"])
    if not ok:
        return await planning_page(request, {"_": _("This outing cannot be cancelled: it has started or does not exist.")}, None, 400)
    return RedirectResponse(request.url_for("planning").path + "?done=cancelled", status_code=303)


# --- exports ------------------------------------------------------------------------------


async def exports_page(request: Request):
    def load(db):
        ref = reference(db, get_locale())
        try:
            f = queries.parse_filters(request.query_params, {"zones": set(ref["zones"]), "tools": set(ref["tools"])})
            return ref, f, {}
        except FilterError as e:
            return ref, Filters(), e.errors

    ref, f, errors = await run_db(request, load)
    if not errors and f.start is None and f.end is None:
        period = stats.default_period(today())
        f = replace(f, start=period.start, end=period.end)
    return render(request, "coordinator/exports.html", _common(request, ref, f=f, errors=errors,
                                                               kinds=exports.KINDS, formats=exports.FORMATS),
                  status_code=400 if errors else 200)


def _stream(path, kind: str, fmt: str, f: Filters, options: dict):
    # Its own connection: a streamed body is produced across several worker threads after
    # the request's own thread has moved on to other requests.
    db = connect(path)
    try:
        for chunk in exports.chunks(db, kind, fmt, f, **options):
            yield chunk.encode("utf-8")
    finally:
        db.close()


async def export_download(request: Request):
    """POST (with the form's CSRF token): a download writes the audit log, so no link may forge one."""
    kind, fmt = request.path_params["kind"], request.path_params["fmt"]
    if not exports.valid(kind, fmt):
        raise HTTPException(404)
    form = await read_form(request)
    params = {k: str(form.get(k)) for k in ("start", "end", "zone") if form.get(k) is not None}

    def load(db):
        ref = reference(db, get_locale())
        return queries.parse_filters(params, {"zones": set(ref["zones"]), "tools": set(ref["tools"])})

    try:
        f = await run_db(request, load)
    except FilterError as e:
        return render(request, "error.html", {"status": 400, "message": "; ".join(e.errors.values())}, status_code=400)
    user = current_user(request)
    settings = request.app.state.settings
    await write_db(request, exports.record, user["id"], kind, fmt, f, "web")
    name = exports.filename(kind, fmt, localtime.today(settings.tz).isoformat())
    options = exports.options(settings) if fmt == exports.DECIDIM else {}
    return StreamingResponse(
        _stream(settings.db_path, kind, fmt, f, options),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# --- follow-ups, devices, audit -------------------------------------------------------------


async def followup_list(request: Request):
    def load(db):
        ref = reference(db, get_locale())
        purpose = request.query_params.get("purpose") or None
        error = None
        if purpose is not None and purpose not in ref["tools"]:
            purpose, error = None, _("Unknown participatory tool.")
        done = request.query_params.get("show") == "done"
        return ref, purpose, error, followups.open_followups(db, purpose, include_done=done), followups.counts_by_purpose(db), done

    ref, purpose, error, rows, counts, show_done = await run_db(request, load)
    return render(
        request,
        "coordinator/followups.html",
        _common(request, ref, purpose=purpose, error=error, rows=rows, counts=counts, show_done=show_done,
                done=request.query_params.get("done"), max_rows=followups.MAX_ROWS),
        status_code=400 if error else 200,
    )


async def followup_done(request: Request):
    await read_form(request)
    contact_id = request.path_params["contact_id"]
    user = current_user(request)
    ok = bool(queries.ID_RE.match(contact_id)) and await write_db(request, followups.mark_done, contact_id, user["id"])
    if not ok:
        raise HTTPException(404, _("This follow-up no longer exists (it may have expired)."))
    return RedirectResponse(request.url_for("followups").path + "?done=1", status_code=303)


async def device_list(request: Request):
    settings = request.app.state.settings
    rows = await run_db(request, queries.devices, settings.device_stale_days, datetime.now(timezone.utc))
    return render(request, "coordinator/devices.html", {"rows": rows, "stale_days": settings.device_stale_days,
                                                        "stale": sum(1 for r in rows if r["stale"])})


async def audit_log(request: Request):
    action = request.query_params.get("action") or None
    raw_before = request.query_params.get("before") or ""
    error = None
    before = None
    if raw_before:
        if raw_before.isdigit() and len(raw_before) <= 15:
            before = int(raw_before)
        else:
            error = _("This page link is not valid; start again from the first page.")

    def load(db):
        actions = queries.audit_actions(db)
        nonlocal action, error
        if action is not None and action not in actions:
            action, error = None, _("Unknown action.")
        return actions, queries.audit_page(db, action, before) if not error else {"rows": [], "next": None}

    actions, page = await run_db(request, load)
    for row in page["rows"]:
        try:
            row["detail"] = json.loads(row["detail"] or "{}")
        except ValueError:
            row["detail"] = {}
    return render(request, "coordinator/audit.html", {"actions": actions, "action": action, "page": page, "error": error},
                  status_code=400 if error else 200)
