"""The coordinator's triage of worksite reports: the queue, one report, its changes."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from .. import mail, refdata, vocab
from ..worksites import intake, public, triage
from ..worksites import states as rs
from ..i18n import gettext as _
from ..validation import is_uuid
from ..web import current_user, read_form, render, run_db, write_db

FILTER_KEYS = ("status", "category", "zone", "date_from", "date_to", "with_photo", "wants_to_help", "q")
MAX_BULK = 200


def _locale(request: Request) -> str:
    return request.scope.get("outreach.locale", "fr")


def _ref_labels(ref: dict) -> dict:
    return {
        "categories": {c["code"]: c["label"] for c in ref["categories"]},
        "zones": {z["code"]: z["label"] for z in ref["zones"]},
        "states": {s: rs.label(s) for s in rs.STATES},
        "sources": vocab.REPORT_SOURCES.plain(),
    }


async def queue(request: Request, bulk_results: dict | None = None, bulk_error: str = "", status_code: int = 200):
    """GET /coordinator/reports: filters, newest first, keyset pages of 50."""
    params = {k: v for k, v in request.query_params.items() if k in FILTER_KEYS}
    if "status" not in params:
        params["status"] = "open"
    filters, errors = await run_db(request, triage.triage_filters, params)
    page = await run_db(request, triage.triage_list, filters, after=request.query_params.get("after"))
    ref = await run_db(request, refdata.load, _locale(request))
    kept = {k: v for k, v in params.items() if v and k in FILTER_KEYS}
    next_url = None
    if page["next"]:
        next_url = request.url_for("triage").path + "?" + urlencode({**kept, "after": page["next"]})
    return render(request, "triage_list.html", {
        "rows": page["rows"],
        "filters": filters,
        "errors": errors,
        "next_url": next_url,
        "first_url": request.url_for("triage").path + ("?" + urlencode(kept) if kept else ""),
        "is_first": not request.query_params.get("after"),
        "ref": ref,
        "labels": _ref_labels(ref),
        "states": rs.STATES,
        "bulk_targets": [s for s in rs.STATES if s not in (rs.SUBMITTED, rs.DUPLICATE)],
        "bulk_results": bulk_results,
        "bulk_error": bulk_error,
    }, status_code=status_code)


async def detail(request: Request, errors: dict | None = None, values: dict | None = None, status_code: int = 200,
                 message: str = ""):
    """GET /coordinator/reports/<id>: photos, location, history, volunteers, and the actions."""
    report_id = request.path_params["report_id"].lower()
    report = await run_db(request, triage.detail, report_id) if is_uuid(report_id) else None
    if report is None:
        raise HTTPException(404)
    ref = await run_db(request, refdata.load, _locale(request))
    candidates = []
    if report["lat"] is not None and rs.is_open(report["status"]):
        candidates = await run_db(request, public.nearby_open, report["category"], report["lat"], report["lon"],
                                  exclude=report_id)
    return render(request, "triage_detail.html", {
        "report": report,
        "labels": _ref_labels(ref),
        "candidates": candidates,
        "errors": errors or {},
        "values": values or {},
        "message": message,
        "done": request.query_params.get("done", ""),
    }, status_code=status_code)


def _text(form, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


async def change_status(request: Request):
    """POST /coordinator/reports/<id>/status: one change of state, with its rules enforced."""
    report_id = request.path_params["report_id"].lower()
    form = await read_form(request)
    values = {k: _text(form, k) for k in ("status", "expected", "reason", "duplicate_of", "scheduled_for", "message")}
    user = current_user(request)
    try:
        await write_db(request, triage.change_status, report_id, values["status"], user["id"],
                       expected=values["expected"] or None, reason=values["reason"],
                       duplicate_of=values["duplicate_of"], scheduled_for=values["scheduled_for"],
                       message=values["message"], outbox=mail.outbox_for(request))
    except intake.ReportError as exc:
        if exc.status == 404:
            raise HTTPException(404)
        return await detail(request, exc.errors, values, exc.status, _("The change was not made (see below)."))
    return _back(request, report_id, "status")


async def reply(request: Request):
    """POST /coordinator/reports/<id>/reply: a public reply or an internal note."""
    report_id = request.path_params["report_id"].lower()
    form = await read_form(request)
    text = _text(form, "text")
    public = _text(form, "visibility") == "public"
    try:
        await write_db(request, triage.add_reply, report_id, current_user(request)["id"], text, public=public,
                       outbox=mail.outbox_for(request))
    except intake.ReportError as exc:
        if exc.status == 404:
            raise HTTPException(404)
        return await detail(request, exc.errors, {"text": text, "visibility": "public" if public else "internal"},
                            400, _("The message was not saved (see below)."))
    return _back(request, report_id, "reply" if public else "note")


async def merge(request: Request):
    """POST /coordinator/reports/<id>/merge: this report is a duplicate of ``original``."""
    report_id = request.path_params["report_id"].lower()
    form = await read_form(request)
    original = _text(form, "original").strip().lower()
    try:
        await write_db(request, triage.merge, report_id, original, current_user(request)["id"],
                       outbox=mail.outbox_for(request))
    except intake.ReportError as exc:
        if exc.status == 404:
            raise HTTPException(404)
        return await detail(request, exc.errors, {"duplicate_of": original}, exc.status,
                            _("The reports were not merged (see below)."))
    return _back(request, report_id, "merge")


def _back(request: Request, report_id: str, done: str) -> RedirectResponse:
    url = request.url_for("triage_detail", report_id=report_id).path
    return RedirectResponse(f"{url}?done={done}", status_code=303)


async def bulk(request: Request):
    """POST /coordinator/reports/bulk: one change applied to the ticked reports, each on its own."""
    form = await read_form(request)
    ids = [i.strip().lower() for i in form.getlist("ids") if isinstance(i, str)][:MAX_BULK + 1]
    target = _text(form, "status")
    if not ids:
        return await queue(request, None, _("Tick at least one report."), 400)
    if len(ids) > MAX_BULK:
        return await queue(request, None, _("At most %(n)d reports at once.") % {"n": MAX_BULK}, 400)
    if target not in rs.STATES:
        return await queue(request, None, _("Choose the new state."), 400)
    results = await write_db(request, triage.bulk_change, ids, target, current_user(request)["id"],
                             reason=_text(form, "reason"), scheduled_for=_text(form, "scheduled_for"),
                             message=_text(form, "message"), outbox=mail.outbox_for(request))
    return await queue(request, results, "", 200)
