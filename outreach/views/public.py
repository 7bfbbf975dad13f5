"""The resident's pages: report a worksite (works without script), follow it, join public worksites."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse

from .. import mail, refdata
from ..worksites import intake, photos, public
from ..worksites import states as rs
from ..i18n import gettext as _
from ..validation import is_uuid
from ..web import check_csrf, client_ip, current_user, read_form, render, run_db, write_db
from .entries import store_entries

FORM_FIELDS = ("title", "description", "category", "address", "where_detail", "lat", "lon", "accuracy_m",
               "reporter_name", "reporter_email", "reporter_phone")


def sentence(message: str) -> str:
    """A field's message as a page shows it: a sentence, capital first (the API keeps the bare phrase)."""
    return message[:1].upper() + message[1:] if isinstance(message, str) else message


def _locale(request: Request) -> str:
    return request.scope.get("outreach.locale", "fr")


def _js_messages() -> dict:
    # The strings of report.js and the modules it imports (the outbox's included).
    from .field import js_messages

    return js_messages("js/report.js")


async def report_form(request: Request, values: dict | None = None, errors: dict | None = None, status_code: int = 200,
                      message: str = "", photo_dropped: bool = False):
    """GET /report: the form, usable before any script runs.

    ``photo_dropped``: the form comes back after a photo was chosen; no page can refill a file
    input, so the page says so and asks for the photo again.
    """
    if photo_dropped:
        again = _("Your photo was not kept: choose it again.")
        message = f"{message} {again}".strip()
    ref = await run_db(request, refdata.load, _locale(request))
    values = values or {}
    return render(request, "report.html", {
        "categories": [(c["code"], c["label"]) for c in ref["categories"]],
        "consent": ref["consents"]["reporter_contact"],
        "values": values,
        "errors": errors or {},
        "message": message,
        "photo_dropped": photo_dropped,
        # A fresh id per page makes a double-submitted plain form one report, not two.
        "entry_id": values.get("entry_id") or str(uuid.uuid4()),
        "js_messages": _js_messages(),
        "max_photo_mb": request.app.state.settings.max_photo_bytes // (1024 * 1024),
    }, status_code=status_code)


async def _read_report_form(request: Request):
    """The multipart form (it may carry a photo), with the CSRF token checked."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise HTTPException(415, _("This form must be sent as a regular web form."))
    limit = request.app.state.settings.max_photo_bytes + 256 * 1024
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise HTTPException(413, _("The photo is too large (at most %(mb)d MiB).")
                            % {"mb": request.app.state.settings.max_photo_bytes // (1024 * 1024)})
    try:
        form = await request.form(max_files=1, max_fields=40, max_part_size=64 * 1024)
    except Exception:  # the multipart parser's own errors
        raise HTTPException(400, _("The form could not be read."))
    try:
        check_csrf(request, form)
    except HTTPException:
        await form.close()  # a refused form's photo must not leave its temporary file open
        raise
    return form


def _data_from_form(form, values: dict) -> dict:
    location = None
    if values.get("lat") and values.get("lon"):
        try:
            location = {"lat": float(values["lat"]), "lon": float(values["lon"]),
                        "accuracy_m": float(values["accuracy_m"]) if values.get("accuracy_m") else None}
        except ValueError:
            location = {"lat": "?", "lon": "?"}  # rejected by validation with a clear message
    reporter = None
    contact = {k: values.get(f"reporter_{k}", "") for k in ("name", "email", "phone")}
    if any(contact.values()):
        reporter = {k: v for k, v in contact.items() if v}
        reporter["consent"] = form.get("reporter_consent") == "yes"
        reporter["consent_text_version"] = form.get("consent_text_version") or ""
    return {
        "title": values.get("title", ""),
        "description": values.get("description", ""),
        "category": values.get("category", ""),
        "location": location,
        "address": values.get("address", ""),
        "where_detail": values.get("where_detail", ""),
        "photos": [],
        "wants_to_help": form.get("wants_to_help") == "yes",
        "reporter": reporter,
    }


def _form_errors(errors: dict) -> dict:
    """Map protocol field names (data.reporter.email) to the form's (reporter_email)."""
    out = {}
    for key, message in errors.items():
        name = key.removeprefix("data.").replace("reporter.", "reporter_")
        if name.startswith("location."):  # location.lat, location.accuracy_m: one position on the form
            name = "location"
        if name == "reporter_consent_text_version":
            name = "reporter_consent"
        out.setdefault(name, sentence(message))
    return out


def _photo_chosen(form) -> bool:
    upload = form.get("photo")
    return upload is not None and not isinstance(upload, str) and bool(upload.filename)


async def report_submit(request: Request):
    """POST /report: the plain HTML way (no script): store, then show the tracking page."""
    form = await _read_report_form(request)
    try:
        return await _report_submit(request, form)
    finally:
        await form.close()  # the uploaded photo's temporary file


async def _report_submit(request: Request, form):
    values = {k: (form.get(k) if isinstance(form.get(k), str) else "") for k in FORM_FIELDS}
    values["entry_id"] = form.get("entry_id") if isinstance(form.get("entry_id"), str) else ""
    values["wants_to_help"] = form.get("wants_to_help") == "yes"
    values["reporter_consent"] = form.get("reporter_consent") == "yes"
    if form.get("website"):
        return await report_form(request, values, {}, 400, _("This report looks automated and was not accepted."))
    chosen = _photo_chosen(form)
    if not is_uuid(values["entry_id"]):
        values["entry_id"] = ""
        return await report_form(request, values, {}, 400, _("The form has expired. Go back, reload the page and try again."),
                                 photo_dropped=chosen)
    if current_user(request) is None:
        wait = request.app.state.limits.report.hit(f"ip:{client_ip(request)}")
        if wait:
            raise HTTPException(429, _("Too many reports from this connection. Try again later."),
                                headers={"Retry-After": str(wait)})
    data = _data_from_form(form, values)
    upload = form.get("photo")
    settings = request.app.state.settings
    if chosen:
        raw = await upload.read(settings.max_photo_bytes + 1)
        if raw:
            sha = hashlib.sha256(raw).hexdigest()
            try:
                row = await run_db(request, lambda db: photos.prepare(settings.uploads_dir, sha, raw,
                                                                      max_bytes=settings.max_photo_bytes))
            except photos.PhotoError as exc:
                return await report_form(request, values, {"photo": sentence(exc.message)}, exc.status)
            await write_db(request, photos.record, row)
            data["photos"] = [sha]
    entry = {"id": values["entry_id"], "kind": "report", "version": 1, "created_at": refdata.now_iso(), "data": data}
    # The same path as /api/v1/reports and /api/v1/sync, with no user.
    result = (await store_entries(request, None, [entry]))["results"][0]
    if result["status"] == "rejected":
        return await report_form(request, values, _form_errors(result["errors"]), 400,
                                 _("Some answers need a correction (see below)."), photo_dropped=chosen)
    if result["status"] == "conflict":
        values["entry_id"] = ""
        return await report_form(request, values, {}, 409,
                                 _("This form was already sent with other content. Check it and send it again."),
                                 photo_dropped=chosen)
    return RedirectResponse(result["tracking_url"] + "?new=1", status_code=303)


async def _report_for_token(request: Request) -> tuple[str, dict]:
    report_id = public.report_id_for_token(request.app.state.signer, request.path_params["token"])
    view = await run_db(request, public.public_view, report_id) if report_id else None
    if view is None:
        raise HTTPException(404)
    return report_id, view


async def track(request: Request, errors: dict | None = None, status_code: int = 200, text: str = ""):
    """GET /track/<token>: the public state of one report, for the holder of its link only."""
    report_id, view = await _report_for_token(request)
    labels = {c["code"]: c["label"] for c in (await run_db(request, refdata.load, _locale(request)))["categories"]}
    return render(request, "track.html", {
        "report": view,
        "token": request.path_params["token"],
        "category": labels.get(view["category"], view["category"]),
        "state_label": rs.label(view["status"]),
        "labels": {s: rs.label(s) for s in rs.STATES},
        "is_new": request.query_params.get("new") == "1",
        "added": request.query_params.get("added") == "1",
        "can_add_info": view["status"] == rs.NEEDS_INFO,
        "errors": errors or {},
        "text": text,
        "rendered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tracking_url": str(request.url.replace(query="")),
        # A duplicate's reporter sees how the original stands: its public state, through no link
        # of the original's (that page, its question and its form belong to its own reporter).
        "original": await run_db(request, public.original_public_state, view["duplicate_of"])
        if view["status"] == rs.DUPLICATE and view["duplicate_of"] else None,
    }, status_code=status_code, headers={
        # The resident's phone may keep this page (its service worker keeps the last one opened,
        # to read offline), but every view asks the server first; no shared cache ever holds it.
        "Cache-Control": "private, no-cache", "X-Robots-Tag": "noindex"})


async def track_info(request: Request):
    """POST /track/<token>/info: the resident answers the coordinator's question."""
    report_id, _view = await _report_for_token(request)
    form = await read_form(request)
    text = form.get("text") or ""
    try:
        await write_db(request, public.add_resident_info, report_id, text)
    except intake.ReportError as exc:
        return await track(request, {"text": sentence("; ".join(exc.errors.values()))}, exc.status if exc.status != 404 else 400,
                           text if isinstance(text, str) else "")
    url = request.url_for("track", token=request.path_params["token"]).path
    return RedirectResponse(url + "?added=1", status_code=303)


async def track_photo(request: Request):
    """A photo of the tracked report, for the holder of its link (even before it is public)."""
    report_id, view = await _report_for_token(request)
    sha = request.path_params["sha256"]
    if not any(p["sha256"] == sha and p["arrived"] for p in view["photos"]):
        raise HTTPException(404)
    return await _photo_response(request, sha, thumb=request.query_params.get("size") == "thumb")


async def worksites(request: Request, errors: dict | None = None, values: dict | None = None, failed: str = "",
                    status_code: int = 200):
    """GET /worksites: accepted, scheduled and in-progress worksites, each open to volunteers."""
    rows = await run_db(request, public.public_worksites)
    ref = await run_db(request, refdata.load, _locale(request))
    labels = {c["code"]: c["label"] for c in ref["categories"]}
    return render(request, "worksites.html", {
        "worksites": rows,
        "category_labels": labels,
        "labels": {s: rs.label(s) for s in rs.STATES},
        "consent": ref["consents"]["volunteer"],
        "errors": errors or {},
        "values": values or {},
        "failed": failed,
        "joined": request.query_params.get("joined", ""),
    }, status_code=status_code)


async def volunteer(request: Request):
    """POST /worksites/<id>/volunteer: sign up to take part (consent required)."""
    report_id = request.path_params["report_id"].lower()
    form = await read_form(request)
    if not is_uuid(report_id):
        raise HTTPException(404)
    if current_user(request) is None:
        wait = request.app.state.limits.report.hit(f"ip:{client_ip(request)}")
        if wait:
            raise HTTPException(429, _("Too many attempts. Wait a moment and try again."), headers={"Retry-After": str(wait)})
    values = {k: form.get(k) if isinstance(form.get(k), str) else "" for k in ("name", "email", "phone")}
    data = dict(values, consent=form.get("consent") == "yes", consent_text_version=form.get("consent_text_version"))
    try:
        await write_db(request, public.sign_up, report_id, data, locale=_locale(request), outbox=mail.outbox_for(request))
    except intake.ReportError as exc:
        if exc.status == 404:
            raise HTTPException(404, exc.errors.get("report"))
        return await worksites(request, {k: sentence(m) for k, m in exc.errors.items()}, values, report_id, 400)
    return RedirectResponse(request.url_for("worksites").path + f"?joined={report_id}#w-{report_id}", status_code=303)


async def photo(request: Request):
    """GET /photos/<sha256>: staff see every photo; others only those of public worksites."""
    sha = request.path_params["sha256"]
    if not photos.is_sha256(sha):
        raise HTTPException(404)
    if current_user(request) is None and not await run_db(request, photos.is_public, sha):
        raise HTTPException(404)
    return await _photo_response(request, sha, thumb=request.query_params.get("size") == "thumb")


async def _photo_response(request: Request, sha: str, *, thumb: bool):
    path = await run_db(request, photos.file_for, request.app.state.settings.uploads_dir, sha, thumb=thumb)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})
