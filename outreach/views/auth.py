"""Sign-in and sign-out: the JSON API for the phone, a plain form for the office."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import users
from ..validation import is_text
from ..i18n import gettext as _
from ..security import new_csrf_token
from ..web import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ApiError,
    client_ip,
    current_user,
    read_form,
    read_json,
    render,
    run_db,
    safe_next,
    write_db,
)



async def _authenticate(request: Request, email: str, password: str) -> tuple[dict | None, int]:
    """(user, 0) or (None, 0) for wrong credentials, or (None, seconds to wait) when throttled.

    The attempt is counted before the password is checked (parallel guesses all count);
    a right password gives it back.
    """
    throttle = request.app.state.limits.sign_in
    address = client_ip(request)
    wait, ticket = throttle.attempt(email, address)
    if wait:
        return None, wait
    user = await run_db(request, users.authenticate, email, password)
    if user is not None:
        throttle.succeeded(email, address, ticket)
    return user, 0


async def _set_session(request: Request, response: Response, user: dict) -> None:
    settings = request.app.state.settings
    sid = await write_db(request, users.start_session, user["id"], settings.session_max_age)
    token = request.app.state.signer.dumps("session", {"uid": user["id"], "epoch": user["session_epoch"], "sid": sid})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=settings.https or request.url.scheme == "https",
        path="/",
    )
    # A new session, a new CSRF token bound to it: the next form works without a page load first.
    response.set_cookie(CSRF_COOKIE, new_csrf_token(request.app.state.signer, sid), httponly=True, samesite="lax",
                        secure=settings.https or request.url.scheme == "https", path="/")


def home_for(request: Request, user: dict | None) -> str:
    """Where a person lands after signing in."""
    if user and user["role"] == "field":
        return request.url_for("field_app").path
    if user:
        return request.url_for("dashboard").path
    return "/"


async def api_sign_in(request: Request):
    body = await read_json(request, max_bytes=8 * 1024)
    if not isinstance(body, dict):
        raise ApiError(400, _("Send a JSON object with email and password."))
    errors = {}
    email, password = body.get("email"), body.get("password")
    if not is_text(email) or not email.strip():
        errors["email"] = _("Enter your email address.")
    elif len(email) > 320:
        errors["email"] = _("This email address is too long.")
    if not is_text(password) or not password:
        errors["password"] = _("Enter your password.")
    elif len(password) > 1024:
        errors["password"] = _("This password is too long.")
    if errors:
        raise ApiError(400, _("Some fields are missing or invalid."), errors)
    user, wait = await _authenticate(request, email, password)
    if wait:
        raise ApiError(429, _("Too many failed sign-ins. Try again in %(seconds)s seconds.") % {"seconds": wait}, None, {"Retry-After": str(wait)})
    if user is None:
        raise ApiError(401, _("Wrong email or password."))
    response = JSONResponse({"user": users.public(user)})
    await _set_session(request, response, user)
    return response


async def api_whoami(request: Request):
    user = current_user(request)
    if not user:
        raise ApiError(401, _("You are signed out."))
    return JSONResponse({"user": users.public(user)})


async def _end_session(request: Request) -> None:
    sid = request.scope.get("outreach.session_id")
    if sid:
        await write_db(request, users.end_session, sid)


async def api_sign_out(request: Request):
    await _end_session(request)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def login_page(request: Request):
    next_url = safe_next(request.query_params.get("next"), "")
    return render(request, "login.html", {"next": next_url, "email": "", "error": None})


async def login_submit(request: Request):
    form = await read_form(request)
    email = str(form.get("email", ""))[:320]
    password = str(form.get("password", ""))[:1024]
    next_url = safe_next(str(form.get("next", "")), "")
    context = {"next": next_url, "email": email}
    if not email.strip() or not password:
        return render(request, "login.html", dict(context, error=_("Enter your email address and your password.")), 400)
    user, wait = await _authenticate(request, email, password)
    if wait:
        message = _("Too many failed sign-ins. Try again in %(seconds)s seconds.") % {"seconds": wait}
        return render(request, "login.html", dict(context, error=message), 429, headers={"Retry-After": str(wait)})
    if user is None:
        return render(request, "login.html", dict(context, error=_("Wrong email or password.")), 401)
    response = RedirectResponse(next_url or home_for(request, user), status_code=303)
    await _set_session(request, response, user)
    return response


async def logout_submit(request: Request):
    await read_form(request)
    await _end_session(request)
    response = RedirectResponse(request.url_for("login").path, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
