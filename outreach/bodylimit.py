"""The one guard on request bodies: every byte received is counted, on every route.

Content-Length is only a promise (a chunked body has none): the guard counts what really
arrives, answers 413 as soon as the route's limit is passed, and 408 when a body trickles in
for longer than BODY_TIMEOUT. Views may still check their own, smaller limits; none may
read more than this guard lets through.
"""

from __future__ import annotations

import asyncio
import json

from starlette.datastructures import Headers

from .i18n import gettext as _

FORM_BYTES = 64 * 1024  # every HTML form but the report's (which may carry a photo)
MULTIPART_OVERHEAD = 256 * 1024  # the report form's text fields around its one photo


def body_limit(settings, method: str, path: str) -> int:
    """The most bytes a request to this route may send (one place for every route)."""
    if method == "PUT" and path.startswith("/api/v1/attachments/"):
        return settings.max_photo_bytes
    if method == "POST" and path == "/report":
        return settings.max_photo_bytes + MULTIPART_OVERHEAD
    if path.startswith("/api/"):
        return settings.max_body_bytes
    return FORM_BYTES


class _Refused(Exception):
    """Raised into the app when it asks for more of a body the guard has refused."""


class BodyLimitMiddleware:
    """Counts request body bytes as they arrive; 413 past the route's limit, 408 when too slow."""

    def __init__(self, app, settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(self.settings, scope["method"], scope["path"])
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            if not length.isdigit():
                return await _answer(scope, send, 400, _("Invalid Content-Length header."), limit)
            if int(length) > limit:
                return await _answer(scope, send, 413, _("The request is too large."), limit)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.body_timeout
        state = {"received": 0, "done": False, "refused": 0, "started": False}

        async def counted_receive():
            if state["refused"]:
                raise _Refused()
            if state["done"]:
                return await receive()  # after the body: waiting for a disconnect, no deadline
            try:
                # asyncio.timeout, not wait_for: no task of its own (wait_for made one per message,
                # some 30 µs a request on the event loop)
                async with asyncio.timeout(max(deadline - loop.time(), 0.001)):
                    message = await receive()
            except TimeoutError:
                state["refused"] = 408
                raise _Refused() from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["refused"] = 413
                    raise _Refused()
                state["done"] = not message.get("more_body", False)
            else:
                state["done"] = True
            return message

        async def guarded_send(message):
            if state["refused"] and not state["started"]:
                return  # whatever the app answers to an interrupted body, the guard answers instead
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not state["refused"]:
                raise
        if state["refused"] and not state["started"]:
            if state["refused"] == 408:
                await _answer(scope, send, 408, _("The request took too long to arrive."), limit)
            else:
                await _answer(scope, send, 413, _("The request is too large."), limit)


async def _answer(scope, send, status: int, message: str, limit: int) -> None:
    if scope["path"].startswith(("/api/", "/open311/")):
        body = json.dumps({"error": message, "detail": {"max_bytes": limit} if status == 413 else None}).encode()
        ctype = b"application/json"
    else:
        body = message.encode()
        ctype = b"text/plain; charset=utf-8"
    # Connection: close, since the rest of the body is never read.
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
