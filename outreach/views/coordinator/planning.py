"""Outing planning: the planned outings, a form to plan one, and cancelling one not yet started (after a confirmation)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse

from ... import localtime
from ...coordinator import lists, planning, reach, stats
from ...i18n import get_locale
from ...i18n import gettext as _
from ...web import current_user, read_form, render, run_db, write_db
from .common import page_context, reference, today


PROPOSAL_WEEKS = (4, 8, 13, 26, 52)


def _weeks(params) -> int:
    raw = params.get("weeks", "")
    return int(raw) if raw.isdigit() and int(raw) in PROPOSAL_WEEKS else 8


def _planning_data(db, locale: str, weeks: int) -> dict:
    day = today(localtime.zone_of(db))
    period = stats.Period(day - timedelta(weeks=weeks) + timedelta(days=1), day)
    proposals = reach.proposals(db, period, day)
    return {
        "ref": reference(db, locale),
        "planned": planning.planned(db, day),
        "members": [w for w in lists.workers(db) if w["active"]],
        "proposals": proposals,
        "usual": planning.usual_plans(db, [p["reach"].code for p in proposals], day),
        "regulars": planning.regulars(db),
        "weeks": weeks,
        "proposal_weeks": PROPOSAL_WEEKS,
    }


async def planning_page(request: Request, errors: dict | None = None, values: dict | None = None, status: int = 200,
                        proposal: str | None = None):
    """The page; after a refused form, its errors beside the form that was sent (a proposal's, or the full form)."""
    weeks = _weeks(request.query_params)
    data = await run_db(request, _planning_data, get_locale(), weeks)
    done = request.query_params.get("done")
    planned_id = request.query_params.get("outing", "")
    just_planned = next((o for o in data["planned"] if o["id"] == planned_id), None) if done == "planned" else None
    for usual in data["usual"].values():
        usual["plan_key"] = planning.new_plan_key()
    proposal_errors: dict = {}
    if proposal is not None:
        # A proposal's form was refused: it shows what was sent, and its errors; the full form stays blank.
        if proposal in data["usual"]:
            data["usual"][proposal].update(values or {})
        proposal_errors, errors, values = errors or {}, {}, None
    if values is None:
        # A proposal's "more options" link fills the zone and tomorrow's date: choosing the team is left.
        zone = request.query_params.get("zone", "")
        values = {"members": []}
        if zone in data["ref"]["zones"]:
            values.update(zone=zone, planned_date=(today(request.app.state.settings.tz) + timedelta(days=1)).isoformat())
    values.setdefault("plan_key", planning.new_plan_key())
    return render(
        request,
        "coordinator/planning.html",
        page_context(**data, errors=errors or {}, values=values, done=done, just_planned=just_planned,
                     proposal=proposal, proposal_errors=proposal_errors, today=today(request.app.state.settings.tz)),
        status_code=status,
    )


async def planning_submit(request: Request):
    """Plans an outing from the full form or from a proposal's (same checks); a form sent twice plans one."""
    form = await read_form(request)
    members = [str(m) for m in form.getlist("members")]
    values = {k: str(form.get(k, ""))[:200] for k in ("zone", "format", "planned_date", "planned_start", "planned_end",
                                                      "meeting_point", "meeting_lat", "meeting_lon", "plan_key")}
    values["members"] = members
    proposal = str(form.get("proposal", ""))[:200] if form.get("proposal") is not None else None
    user = current_user(request)

    def save(db):
        plan = planning.validate(db, form, members, today(localtime.zone_of(db)))
        return planning.plan(db, plan, user["id"])

    try:
        outing_id = await write_db(request, save)
    except planning.PlanError as e:
        if "plan_key" in e.errors:
            values.pop("plan_key")
        return await planning_page(request, e.errors, values, 400, proposal=proposal)
    query = urlencode({"done": "planned", "outing": outing_id, "weeks": _weeks({"weeks": str(form.get("weeks", ""))})})
    # The confirmation is scrolled into view: on a phone the page's navigation alone fills the first screen.
    return RedirectResponse(request.url_for("planning").path + "?" + query + "#planned-confirmation", status_code=303)


async def planning_cancel_confirm(request: Request):
    """GET: what cancelling this outing means (its team is told on their next sync), and the button."""
    outing_id = request.path_params["outing_id"]
    outing = await run_db(request, planning.cancellable, outing_id) if lists.ID_RE.match(outing_id) else None
    if outing is None:
        return await planning_page(request, {"_": _("This outing cannot be cancelled: it has started or does not exist.")}, None, 404)
    ref = await run_db(request, reference, get_locale())
    return render(request, "coordinator/planning_cancel.html", page_context(ref, o=outing))


async def planning_cancel(request: Request):
    """POST: cancels only with the confirmation the GET page's button sends; otherwise asks first."""
    form = await read_form(request)
    outing_id = request.path_params["outing_id"]
    if form.get("confirm") != "yes":
        target = (request.url_for("planning_cancel_confirm", outing_id=outing_id).path if lists.ID_RE.match(outing_id)
                  else request.url_for("planning").path)
        return RedirectResponse(target, status_code=303)
    user = current_user(request)
    ok = lists.ID_RE.match(outing_id) and await write_db(request, planning.cancel, outing_id, user["id"])
    if not ok:
        return await planning_page(request, {"_": _("This outing cannot be cancelled: it has started or does not exist.")}, None, 400)
    return RedirectResponse(request.url_for("planning").path + "?done=cancelled", status_code=303)
