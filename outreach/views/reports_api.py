"""JSON API of the worksites: anonymous reports, photo uploads, nearby reports, "me too"."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import refdata
from ..field import sync
from ..worksites import intake, photos, public
from ..i18n import gettext as _
from ..validation import is_uuid
from ..web import ApiError, client_ip, current_user, json_response, read_json, run_db, write_db
from .entries import store_entries

HONEYPOT = "website"  # a field people never see, that robots fill in


def _limited(request: Request, limiter_name: str) -> None:
    """429 with Retry-After when this client address has used up its allowance."""
    limiter = getattr(request.app.state.limits, limiter_name)
    wait = limiter.hit(f"ip:{client_ip(request)}")
    if wait:
        raise ApiError(429, _("Too many reports from this connection. Try again later."), {"retry_after": wait},
                       headers={"Retry-After": str(wait)})


async def submit_reports(request: Request):
    """POST /api/v1/reports: the sync envelope and path, kind ``report`` only, with no user.

    Only the rate limit (per client address) and the honeypot are this view's own: the
    entries are checked and stored by the same code as /api/v1/sync.
    """
    body = await read_json(request)
    if isinstance(body, dict) and HONEYPOT in body:
        # Empty text only, as documented: 0, false, [] or null are no one's empty field either.
        if body[HONEYPOT] != "":
            raise ApiError(400, _("This report looks automated and was not accepted."))
        body = {k: v for k, v in body.items() if k != HONEYPOT}
    try:
        device_id, app_version, entries = sync.check_envelope(body, max_entries=intake.MAX_ENTRIES_ANONYMOUS)
    except sync.RequestError as error:
        raise ApiError(error.status, error.message, error.detail)
    # An empty list is an empty answer, as on /api/v1/sync (the same envelope, the same rules).
    if current_user(request) is None:
        for _entry in entries:
            _limited(request, "report")
    # Residents' reports carry no user, even when a signed-in worker's browser sends them.
    return json_response(await store_entries(request, None, entries, device_id=device_id, app_version=app_version))


async def upload_attachment(request: Request):
    """PUT /api/v1/attachments/<sha256>: one photo's raw bytes, named by their hash."""
    sha = request.path_params["sha256"]
    if not photos.is_sha256(sha):
        raise ApiError(400, _("The name must be the sha256 of the photo, in lowercase hexadecimal."))
    if current_user(request) is None:
        wait = request.app.state.limits.upload.hit(f"ip:{client_ip(request)}")
        if wait:
            raise ApiError(429, _("Too many photos from this connection. Try again later."), {"retry_after": wait},
                           headers={"Retry-After": str(wait)})
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype not in ("image/jpeg", "image/png", "image/webp", "application/octet-stream"):
        raise ApiError(415, _("Only JPEG, PNG and WebP photos are accepted."))
    max_bytes = request.app.state.settings.max_photo_bytes
    data = await _read_limited(request, max_bytes)
    # The bytes are read and checked before saying whether the photo is already here: only
    # someone who holds the photo learns that (a hash alone tells nothing).
    if photos.sha256_hex(data) != sha:
        raise ApiError(400, _("The bytes received do not match their sha256 name: send the photo again."))
    if await run_db(request, photos.has, sha):
        return JSONResponse({"sha256": sha, "status": "unchanged"}, 200)
    uploads = request.app.state.settings.uploads_dir
    try:
        # Decoding is the slow part: done in a worker thread, outside the write lock.
        row = await run_db(request, lambda db: photos.prepare(uploads, sha, data, max_bytes=max_bytes))
    except photos.PhotoError as exc:
        raise ApiError(exc.status, exc.message)
    created = await write_db(request, photos.record, row)
    return JSONResponse({"sha256": sha, "status": "created" if created else "unchanged",
                         "width": row["width"], "height": row["height"]}, 201 if created else 200)


async def _read_limited(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ApiError(400, _("Invalid Content-Length header."))
        if int(length) > limit:
            raise ApiError(413, _("The photo is too large (at most %(mb)d MiB).") % {"mb": limit // (1024 * 1024)})
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(413, _("The photo is too large (at most %(mb)d MiB).") % {"mb": limit // (1024 * 1024)})
    return bytes(body)


async def nearby(request: Request):
    """GET /api/v1/reports/nearby?category=&lat=&lon=: accepted worksites of that category within ~150 m."""
    wait = request.app.state.limits.nearby.hit(f"ip:{client_ip(request)}")
    if wait:
        raise ApiError(429, _("Too many searches from this connection. Try again in a minute."), {"retry_after": wait},
                       headers={"Retry-After": str(wait)})
    q = request.query_params
    category = q.get("category", "")
    try:
        lat, lon = float(q.get("lat", "")), float(q.get("lon", ""))
    except ValueError:
        raise ApiError(400, _("lat and lon must be numbers."))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ApiError(400, _("lat and lon must be numbers."))
    if category not in await run_db(request, refdata.codes, "categories"):
        raise ApiError(400, _("Unknown category."))
    found = await run_db(request, public.nearby_open, category, lat, lon, public_only=True)
    return JSONResponse({"radius_m": public.NEARBY_METRES, "reports": found})


async def me_too(request: Request):
    """POST /api/v1/reports/<id>/me-too {"id": uuid}: one more resident has the same need."""
    report_id = request.path_params["report_id"].lower()
    if not is_uuid(report_id):
        raise ApiError(404, _("This report does not exist."))
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) - {"id"}:
        raise ApiError(400, _("The request must be {\"id\": uuid}."))
    if current_user(request) is None:
        _limited(request, "report")
    try:
        counted = await write_db(request, public.me_too, report_id, body.get("id"))
    except intake.ReportError as exc:
        raise ApiError(exc.status, "; ".join(exc.errors.values()), exc.errors)
    return JSONResponse({"status": "created" if counted else "unchanged"}, 201 if counted else 200)
