"""The coordinators' lists: encounters, outings, one outing's report, devices, and the audit log.

Filter errors are shown on the page with a 400, never a 500.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ...coordinator import lists
from ...i18n import get_locale
from ...i18n import gettext as _
from ...web import render, run_db
from .common import filters_or_errors, page_context, reference


def _list_data(db, locale: str, params, kind: str) -> dict:
    ref = reference(db, locale)
    f, errors = filters_or_errors(params, ref)
    page = {"rows": [], "next": None}
    if not errors:
        page = lists.encounters_page(db, f) if kind == "encounters" else lists.outings_page(db, f)
    return {"ref": ref, "f": f, "errors": errors, "page": page, "workers": lists.workers(db)}


async def encounter_list(request: Request):
    data = await run_db(request, _list_data, get_locale(), request.query_params, "encounters")
    return render(request, "coordinator/encounters.html", page_context(**data), status_code=400 if data["errors"] else 200)


async def outing_list(request: Request):
    data = await run_db(request, _list_data, get_locale(), request.query_params, "outings")
    return render(request, "coordinator/outings.html", page_context(**data), status_code=400 if data["errors"] else 200)


async def outing_report(request: Request):
    outing_id = request.path_params["outing_id"]
    if not lists.ID_RE.match(outing_id):
        raise HTTPException(404)

    def load(db):
        return reference(db, get_locale()), lists.outing_report(db, outing_id)

    ref, report = await run_db(request, load)
    if report is None:
        raise HTTPException(404, _("This outing does not exist."))
    return render(request, "coordinator/outing.html", page_context(ref, r=report))


async def device_list(request: Request):
    settings = request.app.state.settings
    rows = await run_db(request, lists.devices, settings.device_stale_days, datetime.now(timezone.utc))
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
        actions = lists.audit_actions(db)
        nonlocal action, error
        if action is not None and action not in actions:
            action, error = None, _("Unknown action.")
        return actions, lists.audit_page(db, action, before) if not error else {"rows": [], "next": None}

    actions, page = await run_db(request, load)
    for row in page["rows"]:
        try:
            row["detail"] = json.loads(row["detail"] or "{}")
        except ValueError:
            row["detail"] = {}
    return render(request, "coordinator/audit.html", {"actions": actions, "action": action, "page": page, "error": error},
                  status_code=400 if error else 200)
