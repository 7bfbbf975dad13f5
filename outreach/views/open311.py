"""Open311 GeoReport v2 over HTTP: format from the path (.json or .xml), errors in Open311's shape."""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import Response

from ..worksites import open311
from ..i18n import gettext as _
from ..web import ApiError, client_ip, run_db, write_db

MAX_FORM_BYTES = 64 * 1024


def _respond(kind: str, body, fmt: str, status: int = 200) -> Response:
    return Response(open311.render(kind, body, fmt), status_code=status, media_type=open311.FORMATS[fmt],
                    headers={"Access-Control-Allow-Origin": "*"} if status < 400 else None)


def endpoint(kind: str):
    """Wrap a view: check the format, turn Open311Error (and malformed input) into Open311 errors."""

    def wrap(fn):
        @functools.wraps(fn)
        async def view(request: Request):
            fmt = request.path_params.get("fmt", "json")
            if fmt not in open311.FORMATS:
                return _respond("errors", open311.error_body(404, _("format must be json or xml")), "json", 404)
            try:
                body, status = await fn(request, fmt)
            except open311.Open311Error as exc:
                return _respond("errors", open311.error_body(exc.code, exc.description), fmt, exc.code)
            except ApiError as exc:
                return _respond("errors", open311.error_body(exc.status, exc.message), fmt, exc.status)
            return _respond(kind, body, fmt, status)

        return view

    return wrap


def _base(request: Request) -> str:
    return request.app.state.settings.base_url or str(request.base_url).rstrip("/")


def _locale(request: Request) -> str:
    return request.scope.get("outreach.locale", "fr")


@endpoint("discovery")
async def discovery(request: Request, fmt: str):
    return open311.discovery(_base(request)), 200


@endpoint("services")
async def services(request: Request, fmt: str):
    return await run_db(request, open311.services, _locale(request)), 200


@endpoint("service_definition")
async def service_definition(request: Request, fmt: str):
    return await run_db(request, open311.service_definition, request.path_params["code"]), 200


@endpoint("requests")
async def requests_list(request: Request, fmt: str):
    params = {k: v for k, v in request.query_params.items()}
    rows = await run_db(request, open311.list_requests, params, base_url=_base(request), locale=_locale(request))
    return rows, 200


@endpoint("requests")
async def request_one(request: Request, fmt: str):
    rows = await run_db(request, open311.get_request, request.path_params["request_id"], base_url=_base(request),
                        locale=_locale(request))
    return rows, 200


@endpoint("tokens")
async def token(request: Request, fmt: str):
    return await run_db(request, open311.token, request.path_params["token"]), 200


@endpoint("requests")
async def requests_post(request: Request, fmt: str):
    """POST requests: application/x-www-form-urlencoded, as GeoReport v2 says; api_key required."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise open311.Open311Error(415, _("send the request as application/x-www-form-urlencoded"))
    length = request.headers.get("content-length")
    if length and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise open311.Open311Error(413, _("the request is too large"))
    try:
        form = await request.form(max_files=0, max_fields=60, max_part_size=MAX_FORM_BYTES)
    except Exception:
        raise open311.Open311Error(400, _("the request could not be read"))
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    client = await run_db(request, open311.check_api_key, params.get("api_key"))
    if client is None:
        # Count failures per address so that keys cannot be guessed at speed.
        wait = request.app.state.limits.login.hit(f"open311:{client_ip(request)}")
        if wait:
            raise open311.Open311Error(429, _("too many attempts, wait and try again"))
        raise open311.Open311Error(403, _("a valid api_key is required"))
    result = await write_db(request, open311.post_request, params, client, locale=_locale(request))
    return result, 201
