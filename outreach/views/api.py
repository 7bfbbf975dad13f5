"""JSON API of the field app: sync, bootstrap, and the OpenAPI description of /api/v1."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import __version__, openapi
from ..field import bootstrap as field_bootstrap, sync
from ..i18n import gettext as _
from ..web import ApiError, current_user, json_response, read_json, run_db
from .entries import store_entries


async def sync_entries(request: Request):
    """POST /api/v1/sync: store a batch of entries, one result per entry (DESIGN.md §4)."""
    user = current_user(request)
    wait = request.app.state.limits.sync.hit(f"user:{user['id']}")
    if wait:
        raise ApiError(429, _("Too many syncs in a short time; the phone will try again shortly."),
                       {"retry_after": wait}, headers={"Retry-After": str(wait)})
    body = await read_json(request)
    try:
        device_id, app_version, entries = sync.check_envelope(body)
    except sync.RequestError as error:
        raise ApiError(error.status, error.message, error.detail)
    # A report filed with a resident: the worker hands the resident its private tracking link.
    return json_response(await store_entries(request, user, entries, device_id=device_id, app_version=app_version))


async def bootstrap(request: Request):
    """GET /api/v1/bootstrap: what the phone keeps to work offline."""
    user = current_user(request)
    locale = request.scope.get("outreach.locale", "fr")
    data = await run_db(request, field_bootstrap.for_user, user, locale)
    data["server_time"] = sync.Context(None, user).received_at
    data["app_version"] = __version__
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


async def openapi_json(request: Request):
    """GET /api/v1/openapi.json: the API's description, for other developers and tools."""
    return JSONResponse(openapi.document(request.app))
