"""JSON API of the field app: sync, bootstrap, and the OpenAPI description of /api/v1."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import openapi
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
    versions, locale = request.app.state.bootstrap_versions, request.scope.get("outreach.locale", "fr")
    # A report filed with a resident: the worker hands the resident its private tracking link.
    # Sync is two-way: the answer says which bootstrap is current (read once the batch is stored),
    # so the phone refetches it (a coordinator's new or cancelled outing) only when it changed.
    answer = await store_entries(request, user, entries, device_id=device_id, app_version=app_version,
                                 then=lambda db: {"bootstrap_version": versions.get(db, user, locale)})
    return json_response(answer)


async def bootstrap(request: Request):
    """GET /api/v1/bootstrap: what the phone keeps to work offline."""
    user = current_user(request)
    locale = request.scope.get("outreach.locale", "fr")
    data = await run_db(request, field_bootstrap.for_user, user, locale)
    etag = field_bootstrap.version(data)
    # no-store: the phone keeps its copy (and its tag) in IndexedDB, which sign-out clears; a copy
    # in the browser's HTTP cache would outlive it on a shared phone.
    headers = {"ETag": etag, "Cache-Control": "no-store", "Vary": "Cookie, Accept-Language"}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    data["server_time"] = sync.Context(None, user).received_at
    return JSONResponse(data, headers=headers)


async def openapi_json(request: Request):
    """GET /api/v1/openapi.json: the API's description, for other developers and tools."""
    return JSONResponse(openapi.document(request.app))
