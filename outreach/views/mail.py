"""E-mail pages: failed messages (admins), one-click unsubscribe (public), campaigns (coordinators)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse

from .. import mail, refdata
from ..i18n import gettext as _
from ..mail import campaigns, queue, unsubscribe
from ..web import current_user, read_form, render, run_db, write_db


# --- admins: what could not be sent ----------------------------------------------------------


async def admin_mail(request: Request):
    def load(db):
        return {"failures": queue.failures(db), "summary": queue.summary(db)}

    data = await run_db(request, load)
    return render(request, "admin/mail.html", {**data, "enabled": request.app.state.settings.mail_enabled,
                                                "retried": request.query_params.get("retried")})


async def admin_mail_retry(request: Request):
    await read_form(request)
    raw = request.path_params["mail_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(404)
    await write_db(request, queue.retry, int(raw))
    return RedirectResponse(request.url_for("admin_mail").path + "?retried=1", status_code=303)


# --- anyone with a signed link: stop these messages ----------------------------------------------


def _unsubscribe_target(request: Request) -> tuple[str, str, str]:
    target = unsubscribe.read(request.app.state.signer, request.path_params["token"])
    if target is None:
        raise HTTPException(404, _("This link is invalid. Copy the whole link from the message."))
    return target


async def _what_stops(request: Request, ref_type: str, purpose: str) -> str:
    """Which messages the link stops, in words (never whose: the page shows no personal data)."""
    if ref_type == "report":
        return _("News of the worksite you reported.")
    if ref_type == "volunteer":
        return _("The date and reminders of the worksite you signed up for.")
    locale = request.scope.get("outreach.locale", "fr")
    tools = {t["code"]: t["label"] for t in (await run_db(request, refdata.load, locale))["tools"]}
    return _("News of this participation scheme: %(tool)s.") % {"tool": tools.get(purpose, purpose)}


async def unsubscribe_page(request: Request):
    """GET shows a button only: a link scanner that opens the URL unsubscribes nobody."""
    ref_type, _ref_id, purpose = _unsubscribe_target(request)
    return render(request, "unsubscribe.html", {"token": request.path_params["token"], "done": False,
                                                "what": await _what_stops(request, ref_type, purpose)})


async def unsubscribe_submit(request: Request):
    """POST (the page's button, or a mail client's RFC 8058 one-click): withdraw the consent.
    The signed link is the authority: no session, no form token (the mail client has neither)."""
    ref_type, ref_id, purpose = _unsubscribe_target(request)
    await write_db(request, unsubscribe.withdraw, ref_type, ref_id, purpose)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form(max_files=0, max_fields=5)
        if form.get("List-Unsubscribe") == "One-Click":
            return PlainTextResponse(_("You will receive no more of these messages."))
    return render(request, "unsubscribe.html", {"token": request.path_params["token"], "done": True,
                                                "what": await _what_stops(request, ref_type, purpose)})


# --- coordinators: a message to the follow-up contacts of one purpose -------------------------------


async def campaign_list(request: Request, errors: dict | None = None, values: dict | None = None,
                        preview: dict | None = None, status: int = 200):
    locale = request.scope.get("outreach.locale", "fr")

    def load(db):
        tools = refdata.load(db, locale)["tools"]
        return {"campaigns": campaigns.listing(db), "tool_choices": [(t["code"], t["label"]) for t in tools]}

    data = await run_db(request, load)
    return render(request, "coordinator/campaigns.html", {
        **data, "errors": errors or {}, "values": values or {}, "preview": preview,
        "enabled": request.app.state.settings.mail_enabled}, status_code=status)


async def campaign_submit(request: Request):
    """One form, two buttons: "preview" shows the message and its count; "send" queues it."""
    form = await read_form(request)
    values = {k: str(form.get(k, ""))[:6000] for k in ("purpose", "subject", "body")}
    try:
        fields = await run_db(request, campaigns.check, values["purpose"], values["subject"], values["body"])
    except campaigns.CampaignError as e:
        return await campaign_list(request, e.errors, values, status=400)
    outbox = mail.outbox_for(request)
    if form.get("action") != "send" or outbox is None:
        shown = await run_db(request, campaigns.preview, fields, request.scope.get("outreach.locale", "fr"))
        return await campaign_list(request, values=values, preview=shown)
    campaign_id = await write_db(request, campaigns.send, outbox, current_user(request)["id"], fields)
    return RedirectResponse(request.url_for("campaign", campaign_id=str(campaign_id)).path, status_code=303)


async def campaign_page(request: Request):
    raw = request.path_params["campaign_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(404)
    found = await run_db(request, campaigns.detail, int(raw))
    if found is None:
        raise HTTPException(404)
    tools = (await run_db(request, refdata.load, request.scope.get("outreach.locale", "fr")))["tools"]
    counts = {status: sum(1 for m in found["messages"] if m["status"] == status)
              for status in (queue.QUEUED, queue.SENT, queue.FAILED, queue.CANCELLED)}
    return render(request, "coordinator/campaign.html", {
        "c": found, "counts": counts, "tool": {t["code"]: t["label"] for t in tools}.get(found["purpose"], found["purpose"])})
