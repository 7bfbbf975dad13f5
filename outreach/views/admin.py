"""Administration: accounts (invite, role, deactivate, reset link), reference data, consent texts.

Also the two public pages that a signed link opens: accept an invitation, choose a new password.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from .. import admin, mail, users, vocab
from ..mail import events as mail_events
from ..i18n import gettext as _
from ..web import current_user, read_form, render, run_db, write_db


def _base_url(request: Request) -> str:
    configured = request.app.state.settings.base_url.rstrip("/")
    return configured or str(request.base_url).rstrip("/")


async def users_page(request: Request, errors: dict | None = None, values: dict | None = None, link: dict | None = None,
                     status: int = 200):
    rows = await run_db(request, admin.accounts)
    return render(
        request,
        "admin/users.html",
        {"rows": rows, "errors": errors or {}, "values": values or {}, "link": link, "roles": vocab.ROLES.plain(),
         "me": current_user(request), "done": request.query_params.get("done")},
        status_code=status,
    )


async def invite(request: Request):
    form = await read_form(request)
    me = current_user(request)
    values = {"email": str(form.get("email", ""))[:320], "role": str(form.get("role", ""))[:20]}

    days = request.app.state.settings.invite_max_age // 86400
    outbox = mail.outbox_for(request)

    def make(db):
        invitation = admin.validate_invitation(db, form)
        admin.record_invitation(db, me["id"], invitation)
        token = admin.invitation_token(request.app.state.signer, invitation, me["id"])
        url = _base_url(request) + request.url_for("invite_accept", token=token).path
        role = vocab.ROLES.label(invitation["role"])
        mailed = mail_events.invitation(db, outbox, email=invitation["email"], role_label=role, url=url, days=days)
        return invitation, url, mailed

    try:
        invitation, url, mailed = await write_db(request, make)
    except admin.AdminError as e:
        return await users_page(request, e.errors, values, status=400)
    return await users_page(request, link={"kind": "invitation", "url": url, "email": invitation["email"], "days": days,
                                           "mailed": mailed})


def _user_id(request: Request) -> int:
    raw = request.path_params["user_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(404)
    return int(raw)


async def change_role(request: Request):
    form = await read_form(request)
    me = current_user(request)
    try:
        await write_db(request, admin.change_role, me["id"], _user_id(request), str(form.get("role", "")))
    except admin.AdminError as e:
        return await users_page(request, e.errors, status=400)
    return RedirectResponse(request.url_for("admin_users").path + "?done=role", status_code=303)


async def set_active(request: Request):
    form = await read_form(request)
    me = current_user(request)
    active = form.get("active") == "1"
    try:
        await write_db(request, admin.set_active, me["id"], _user_id(request), active)
    except admin.AdminError as e:
        return await users_page(request, e.errors, status=400)
    return RedirectResponse(request.url_for("admin_users").path + ("?done=activated" if active else "?done=deactivated"), status_code=303)


async def reset_link(request: Request):
    await read_form(request)
    me = current_user(request)
    user_id = _user_id(request)
    days = request.app.state.settings.invite_max_age // 86400
    outbox = mail.outbox_for(request)

    def make(db):
        token = admin.reset_token(db, request.app.state.signer, user_id, me["id"])
        url = _base_url(request) + request.url_for("password_reset", token=token).path
        target = users.get(db, user_id)
        return target, url, mail_events.password_reset(db, outbox, user=target, url=url, days=days)

    try:
        target, url, mailed = await write_db(request, make)
    except admin.AdminError as e:
        return await users_page(request, e.errors, status=400)
    return await users_page(request, link={"kind": "reset", "url": url, "email": target["email"], "days": days,
                                           "mailed": mailed})


# --- reference data ---------------------------------------------------------------------------


async def reference_page(request: Request, errors: dict | None = None, status: int = 200, failed: str | None = None):
    ref = await run_db(request, admin.reference)
    return render(request, "admin/reference.html",
                  {"ref": ref, "errors": errors or {}, "failed": failed, "done": request.query_params.get("done")},
                  status_code=status)


async def reference_save(request: Request):
    form = await read_form(request)
    table = request.path_params["table"]
    if table not in admin.REF_TABLES:
        raise HTTPException(404)
    me = current_user(request)
    existing = form.get("existing") == "1"
    try:
        await write_db(request, admin.save_reference, me["id"], table, form, existing)
    except admin.AdminError as e:
        return await reference_page(request, e.errors, 400, failed=f"{table}:{str(form.get('code', ''))[:40]}" if existing else f"{table}:new")
    return RedirectResponse(request.url_for("admin_reference").path + f"?done={table}", status_code=303)


async def consent_add(request: Request):
    form = await read_form(request)
    me = current_user(request)
    try:
        await write_db(request, admin.add_consent_text, me["id"], form)
    except admin.AdminError as e:
        return await reference_page(request, e.errors, 400, failed="consent")
    return RedirectResponse(request.url_for("admin_reference").path + "?done=consent", status_code=303)


# --- pages opened by a signed link (public) -----------------------------------------------------

async def _invitation(request: Request) -> dict:
    settings = request.app.state.settings
    invitation = admin.read_invitation(request.app.state.signer, request.path_params["token"], settings.invite_max_age)
    if invitation is None or await run_db(request, admin.token_used, "inv-" + invitation["jti"]):
        raise HTTPException(400, _("This link is invalid or has expired. Ask an administrator for a new one."))
    return invitation


async def invite_page(request: Request):
    invitation = await _invitation(request)
    return render(request, "admin/accept.html", {"kind": "invitation", "email": invitation["email"], "errors": {}, "name": "",
                                                  "token": request.path_params["token"]})


async def invite_submit(request: Request):
    form = await read_form(request)
    invitation = await _invitation(request)
    name = str(form.get("display_name", "")).strip()[:200]
    errors = {}
    if not 1 <= len(name) <= 80:
        errors["display_name"] = _("Enter your name (at most 80 characters).")
    try:
        password = admin.validate_new_password(form)
    except admin.AdminError as e:
        errors.update(e.errors)
    if not errors:
        password_hash = users.hash_password(password)
        try:
            await write_db(request, admin.accept_invitation, invitation, name, password_hash)
        except admin.AdminError as e:
            errors.update(e.errors)
    if errors:
        return render(request, "admin/accept.html", {"kind": "invitation", "email": invitation["email"], "errors": errors, "name": name,
                                                      "token": request.path_params["token"]}, 400)
    return RedirectResponse(request.url_for("login").path + "?welcome=1", status_code=303)


async def _reset(request: Request) -> dict:
    settings = request.app.state.settings
    token = request.path_params["token"]
    reset = await run_db(request, admin.read_reset, request.app.state.signer, token, settings.invite_max_age)
    if reset is None or await run_db(request, admin.token_used, "rst-" + reset["jti"]):
        raise HTTPException(400, _("This link is invalid or has expired. Ask an administrator for a new one."))
    return reset


async def reset_page(request: Request):
    await _reset(request)
    return render(request, "admin/accept.html", {"kind": "reset", "errors": {}, "token": request.path_params["token"]})


async def reset_submit(request: Request):
    form = await read_form(request)
    reset = await _reset(request)
    errors = {}
    try:
        password = admin.validate_new_password(form)
        await write_db(request, admin.reset_password, reset, users.hash_password(password))
    except admin.AdminError as e:
        errors = e.errors
    if errors:
        return render(request, "admin/accept.html", {"kind": "reset", "errors": errors, "token": request.path_params["token"]}, 400)
    return RedirectResponse(request.url_for("login").path + "?reset=1", status_code=303)


# --- Open311 API keys ---------------------------------------------------------------------------


async def api_keys_page(request: Request, errors: dict | None = None, new_key: str | None = None, status: int = 200):
    rows = await run_db(request, admin.api_keys)
    return render(request, "admin/api_keys.html",
                  {"rows": rows, "errors": errors or {}, "new_key": new_key, "done": request.query_params.get("done")},
                  status_code=status)


async def api_key_create(request: Request):
    form = await read_form(request)
    me = current_user(request)
    try:
        key = await write_db(request, admin.create_api_key, me["id"], str(form.get("name", ""))[:300])
    except admin.AdminError as e:
        return await api_keys_page(request, e.errors, status=400)
    return await api_keys_page(request, new_key=key)


async def api_key_revoke(request: Request):
    await read_form(request)
    me = current_user(request)
    raw = request.path_params["key_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(404)
    try:
        await write_db(request, admin.revoke_api_key, me["id"], int(raw))
    except admin.AdminError as e:
        return await api_keys_page(request, e.errors, status=400)
    return RedirectResponse(request.url_for("admin_api_keys").path + "?done=revoked", status_code=303)
