"""Exports: the page that chooses what to export, and the streamed download (recorded in the audit log)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import StreamingResponse

from ...coordinator import exports
from ...coordinator.lists import FilterError, Filters
from ...db import connect
from ...i18n import get_locale
from ...i18n import gettext as _
from ...web import current_user, render, run_db, write_db
from .common import filters_or_errors, page_context, parse_filters, reference, today, within_default_period


async def exports_page(request: Request):
    def load(db):
        ref = reference(db, get_locale())
        return (ref, *filters_or_errors(request.query_params, ref))

    ref, f, errors = await run_db(request, load)
    if not errors:
        f = within_default_period(f)
    return render(request, "coordinator/exports.html", page_context(ref, f=f, errors=errors,
                                                                    kinds=exports.KINDS, formats=exports.FORMATS),
                  status_code=400 if errors else 200)


def _stream(path, kind: str, fmt: str, f: Filters, delimiter: str, locale: str):
    # Its own connection: a streamed body is produced across several worker threads after
    # the request's own thread has moved on to other requests.
    db = connect(path)
    try:
        for chunk in exports.chunks(db, kind, fmt, f, delimiter, locale):
            yield chunk.encode("utf-8")
    finally:
        db.close()


async def export_download(request: Request):
    kind, fmt = request.path_params["kind"], request.path_params["fmt"]
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        raise HTTPException(404)

    def load(db):
        return parse_filters(request.query_params, reference(db, get_locale()))

    sep = request.query_params.get("sep") or "comma"
    try:
        if sep not in exports.DELIMITERS:
            raise FilterError({"sep": _("Unknown separator.")})
        f = await run_db(request, load)
    except FilterError as e:
        return render(request, "error.html", {"status": 400, "message": "; ".join(e.errors.values())}, status_code=400)
    user = current_user(request)
    extra = {"separator": sep} if fmt == "csv" and sep != "comma" else {}
    await write_db(request, exports.record, user["id"], kind, fmt, f, "web", **extra)
    name = exports.filename(kind, fmt, today().isoformat())
    return StreamingResponse(
        _stream(request.app.state.settings.db_path, kind, fmt, f, exports.DELIMITERS[sep], get_locale()),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
