"""Exports: the page that chooses what to export, and the streamed download (recorded in the audit log)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import StreamingResponse

from ...coordinator import exports
from ...coordinator.lists import FilterError, Filters
from ...db import connect
from ...i18n import get_locale
from ...web import current_user, read_form, render, run_db, write_db
from .common import filters_or_errors, page_context, parse_filters, reference, today, within_default_period


async def exports_page(request: Request):
    def load(db):
        ref = reference(db, get_locale())
        return (ref, *filters_or_errors(request.query_params, ref))

    ref, f, errors = await run_db(request, load)
    if not errors:
        f = within_default_period(f, request.app.state.settings.tz)
    return render(request, "coordinator/exports.html", page_context(ref, f=f, errors=errors,
                                                                    kinds=exports.KINDS, formats=exports.FORMATS),
                  status_code=400 if errors else 200)


def _stream(path, kind: str, fmt: str, f: Filters, locale: str, options: dict):
    # Its own connection: a streamed body is produced across several worker threads after
    # the request's own thread has moved on to other requests.
    db = connect(path)
    try:
        for chunk in exports.chunks(db, kind, fmt, f, locale, **options):
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
        return parse_filters(params, reference(db, get_locale()))

    try:
        f = await run_db(request, load)
    except FilterError as e:
        return render(request, "error.html", {"status": 400, "message": "; ".join(e.errors.values())}, status_code=400)
    user = current_user(request)
    settings = request.app.state.settings
    await write_db(request, exports.record, user["id"], kind, fmt, f, "web")
    name = exports.filename(kind, fmt, today(settings.tz).isoformat())
    options = exports.options(settings) if fmt == exports.DECIDIM else {}
    return StreamingResponse(
        _stream(settings.db_path, kind, fmt, f, get_locale(), options),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
