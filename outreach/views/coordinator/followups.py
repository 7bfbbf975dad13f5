"""Follow-ups: residents who asked to be contacted again, by participatory tool, and marking one done."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ...coordinator import followups, lists
from ...i18n import get_locale
from ...i18n import gettext as _
from ...web import current_user, read_form, render, run_db, write_db
from .common import page_context, reference


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
        page_context(ref, purpose=purpose, error=error, rows=rows, counts=counts, show_done=show_done,
                     done=request.query_params.get("done"), max_rows=followups.MAX_ROWS),
        status_code=400 if error else 200,
    )


async def followup_done(request: Request):
    await read_form(request)
    contact_id = request.path_params["contact_id"]
    user = current_user(request)
    ok = bool(lists.ID_RE.match(contact_id)) and await write_db(request, followups.mark_done, contact_id, user["id"])
    if not ok:
        raise HTTPException(404, _("This follow-up no longer exists (it may have expired)."))
    return RedirectResponse(request.url_for("followups").path + "?done=1", status_code=303)
