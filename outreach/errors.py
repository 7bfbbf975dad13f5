"""Error answers: JSON {"error", "detail"} under /api, a friendly page elsewhere."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

from .i18n import gettext as _
from .web import ApiError

log = logging.getLogger("outreach")


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("You need to sign in."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist (or no longer exists)."),
        405: _("This action is not possible here."),
        413: _("What you sent is too large."),
        415: _("This type of content is not accepted here."),
        429: _("Too many attempts. Wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you sent is lost; try again in a moment."),
    }


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page(request: Request, status: int, message: str, headers=None):
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return PlainTextResponse(message, status, headers=headers)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status, headers=headers
    )


async def http_exception(request: Request, exc: HTTPException):
    message = exc.detail if exc.detail and exc.detail != _default_phrase(exc.status_code) else _messages().get(exc.status_code, str(exc.detail))
    if _wants_json(request):
        return JSONResponse({"error": message, "detail": None}, exc.status_code, headers=exc.headers)
    return _page(request, exc.status_code, message, exc.headers)


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def api_error(request: Request, exc: ApiError):
    if _wants_json(request):
        return exc.response()
    return _page(request, exc.status, exc.message, exc.headers)


async def server_error(request: Request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    message = _messages()[500]
    if _wants_json(request):
        return JSONResponse({"error": message, "detail": None}, 500)
    return _page(request, 500, message)


def handlers() -> dict:
    return {HTTPException: http_exception, ApiError: api_error, Exception: server_error}
