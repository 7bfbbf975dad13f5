"""Pages that belong to no area: the landing page, the language switch, health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from starlette.concurrency import run_in_threadpool

from .. import __version__
from .. import health as health_checks
from ..i18n import LOCALES
from ..web import LANG_COOKIE, current_user, render, safe_next
from .auth import home_for


async def home(request: Request):
    user = current_user(request)
    if user:
        target = home_for(request, user)
        if target != "/":
            return RedirectResponse(target, status_code=303)
    return render(request, "home.html", {})


async def set_language(request: Request):
    code = request.path_params["code"]
    target = safe_next(request.query_params.get("next"), "/")
    response = RedirectResponse(target, status_code=303)
    if code in LOCALES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


async def health(request: Request):
    """GET /health: 200 when the server can read and write, 503 otherwise (see health.py)."""
    store, settings = request.app.state.store, request.app.state.settings
    healthy, document = await run_in_threadpool(health_checks.report, store, settings)
    document["version"] = __version__
    return JSONResponse(document, 200 if healthy else 503, headers={"Cache-Control": "no-store"})
