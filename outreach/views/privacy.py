"""Access and erasure requests, and the retention purge on demand (coordinators and admins).

The identifier (email or phone) travels only in POST bodies, never in a URL, so it does not
end up in server logs or browser history.
"""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response

from .. import audit, privacy
from ..i18n import gettext as _
from ..web import current_user, read_form, render, run_db, write_db


def _summary(found: dict) -> dict:
    return {
        "contacts": len(found["contacts"]),
        "report_contacts": len(found["report_contacts"]),
        "volunteers": len(found["volunteers"]),
        "entry_versions": len(found["entry_versions"]),
        "mentions": len(found["mentions"]),
    }


async def privacy_page(request: Request):
    return render(request, "coordinator/privacy.html", {"identifier": "", "found": None, "error": None,
                                                        "done": request.query_params.get("done")})


async def _find(request: Request):
    form = await read_form(request)
    identifier = str(form.get("identifier", ""))[:320]
    try:
        found = await run_db(request, privacy.find, identifier)
    except privacy.IdentifierError as e:
        return form, identifier, None, str(e)
    return form, identifier, found, None


async def privacy_search(request: Request):
    form, identifier, found, error = await _find(request)
    return render(
        request,
        "coordinator/privacy.html",
        {"identifier": identifier, "found": found, "summary": _summary(found) if found else None, "error": error, "done": None},
        status_code=400 if error else 200,
    )


async def privacy_export(request: Request):
    form, identifier, found, error = await _find(request)
    if error:
        return render(request, "coordinator/privacy.html", {"identifier": identifier, "found": None, "error": error, "done": None}, 400)
    user = current_user(request)
    reference = str(form.get("reference", ""))[:100]
    await write_db(request, lambda db: audit.record(db, user["id"], "access_request", "person", "", reference=reference, **_summary(found)))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(
        privacy.access_export(found).encode("utf-8"),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="access-request-{stamp}.json"', "Cache-Control": "no-store"},
    )


async def privacy_erase(request: Request):
    form, identifier, found, error = await _find(request)
    if not error and form.get("confirm") != "yes":
        error = _("Tick the box to confirm the erasure.")
    if error:
        return render(
            request, "coordinator/privacy.html",
            {"identifier": identifier, "found": found, "summary": _summary(found) if found else None, "error": error, "done": None},
            status_code=400,
        )
    user = current_user(request)
    reference = str(form.get("reference", ""))[:100]

    def erase(db):
        # Search again inside the write transaction: nothing added meanwhile escapes the erasure.
        return privacy.erase(db, privacy.find(db, identifier), user["id"], reference)

    counts = await write_db(request, erase)
    return render(request, "coordinator/privacy.html", {"identifier": "", "found": None, "error": None, "done": "erased", "counts": counts})


async def privacy_purge(request: Request):
    await read_form(request)
    settings = request.app.state.settings
    user = current_user(request)
    counts = await write_db(
        request, privacy.purge, settings.contact_retention_days, settings.reporter_contact_retention_days,
        None, user["id"], "web",
    )
    return render(request, "coordinator/privacy.html", {"identifier": "", "found": None, "error": None, "done": "purged", "counts": counts})
