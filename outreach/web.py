"""Helpers every view uses: reading bodies safely, database calls off the event loop, rendering."""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlsplit

import msgspec
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from .i18n import gettext as _
from .security import same

_decode = msgspec.json.Decoder().decode
SESSION_COOKIE = "outreach_session"
CSRF_COOKIE = "outreach_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE = "outreach_lang"


class ApiError(Exception):
    """An error answered as JSON ``{"error": message, "detail": detail}``."""

    def __init__(self, status: int, message: str, detail: Any = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = str(message)
        self.detail = detail
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message, "detail": self.detail}, self.status, headers=self.headers)


def current_user(request: Request) -> dict | None:
    """The signed-in, active user of this request, or None."""
    return request.scope.get("outreach.user")


def client_ip(request: Request) -> str:
    """The client's address (uvicorn has already applied trusted proxy headers)."""
    return request.client.host if request.client else "unknown"


def store(request: Request):
    return request.app.state.store


async def run_db(request: Request, fn: Callable, *args, **kwargs):
    """Call ``fn(db, *args, **kwargs)`` in a worker thread, with this thread's connection."""
    st = store(request)
    return await run_in_threadpool(lambda: fn(st.db(), *args, **kwargs))


async def write_db(request: Request, fn: Callable, *args, **kwargs):
    """Call ``fn(db, *args, **kwargs)`` inside one write transaction, in a worker thread."""
    st = store(request)

    def call():
        with st.write() as db:
            return fn(db, *args, **kwargs)

    return await run_in_threadpool(call)


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > limit:
                raise ApiError(413, _("The request is too large."), {"max_bytes": limit})
        except ValueError:
            raise ApiError(400, _("Invalid Content-Length header."))
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(413, _("The request is too large."), {"max_bytes": limit})
    return bytes(body)


async def read_json(request: Request, max_bytes: int | None = None) -> Any:
    """The JSON body; 415 unless application/json, 413 when too large, 400 when malformed."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiError(415, _("The request must be sent as application/json."))
    limit = max_bytes or request.app.state.settings.max_body_bytes
    return parse_json(await _read_body(request, limit))


def parse_json(body: bytes) -> Any:
    """A JSON body as ``json.loads`` reads it; ApiError 400 when it is not JSON.

    msgspec reads it three times faster and to the same values (big integers stay integers);
    whatever it refuses (a lone surrogate, 1e400, and every malformed body) ``json`` reads,
    so that what is accepted, and how, never depends on which parser answered.
    """
    try:
        return _decode(body)
    except (msgspec.DecodeError, RecursionError):  # RecursionError: nested deeper than msgspec goes
        pass
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, _("The request body is not valid JSON."))


def json_response(content: Any, status_code: int = 200, headers: dict | None = None) -> Response:
    """A JSON response as Starlette's ``JSONResponse`` writes it, written by orjson when it can."""
    try:
        body = orjson.dumps(content)
    except orjson.JSONEncodeError:  # what orjson refuses (a lone surrogate): the reference encoder says
        return JSONResponse(content, status_code, headers=headers)
    return Response(body, status_code, headers=headers, media_type="application/json")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")  # NaN and Infinity are not JSON


async def read_form(request: Request, max_bytes: int = 64 * 1024) -> FormData:
    """URL-encoded form data with the CSRF token checked (403 when it is missing or wrong)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise HTTPException(415, _("This form must be sent as a regular web form."))
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise HTTPException(413, _("The form is too large."))
    try:
        form = await request.form(max_files=0, max_fields=200)
    except Exception:  # multipart/urlencoded parser errors
        raise HTTPException(400, _("The form could not be read."))
    check_csrf(request, form)
    return form


async def read_upload(request: Request, max_bytes: int) -> tuple[FormData, bytes]:
    """A multipart form with one file: the form (CSRF token checked) and the file's bytes.

    413 when the declared length is over ``max_bytes`` (the length must be declared: a body
    of unknown size is refused before any of it is read), 400 when unreadable.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise HTTPException(415, _("This form must be sent with its file."))
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(411, _("The size of the file must be known before it is sent."))
    if int(length) > max_bytes + 64 * 1024:
        raise HTTPException(413, _("The file is too large: at most {mb} MB.").format(mb=max_bytes // 1_048_576))
    try:
        form = await request.form(max_files=1, max_fields=50)
    except Exception:  # multipart parser errors
        raise HTTPException(400, _("The form could not be read."))
    try:
        check_csrf(request, form)
        upload = form.get("file")
        data = b"" if upload is None or isinstance(upload, str) else await upload.read(max_bytes + 1)
    finally:
        await form.close()  # the spooled file, on every path
    return form, data


def check_csrf(request: Request, form: FormData) -> None:
    """403 unless the form carries this browser's CSRF token (double-submit cookie)."""
    token = form.get(CSRF_FIELD)
    expected = request.scope.get("outreach.csrf", "")
    if not isinstance(token, str) or not expected or not same(token, expected):
        raise HTTPException(403, _("The form has expired. Go back, reload the page and try again."))


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after a form (never another site: no open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 500:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200, headers=None) -> HTMLResponse:
    """Render a template of outreach/templates with the request in its context."""
    return request.app.state.templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)
