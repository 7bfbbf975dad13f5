"""When the server cannot write: a clear 503 with Retry-After and a log line, never a 500.

A full disk, a database locked by another process (a backup tool) or a read-only data
directory are conditions of the machine, not bugs: the request is refused whole (SQLite rolls
the transaction back; photo files are written to a temporary name first), the phone keeps its
entries and retries. ``StorageGuard`` is the outermost catch for them, so even the session
lookup in a middleware answers 503. ``remove_temp_files`` clears what a killed process left.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from pathlib import Path

from starlette.responses import HTMLResponse, JSONResponse

from .i18n import gettext as _

log = logging.getLogger("outreach.storage")

FULL, LOCKED, READ_ONLY = "disk_full", "database_locked", "read_only"
RETRY_AFTER = {FULL: 120, LOCKED: 10, READ_ONLY: 300}
_SQLITE = {13: FULL, 5: LOCKED, 6: LOCKED, 8: READ_ONLY, 14: READ_ONLY}  # SQLITE_FULL, BUSY, LOCKED, READONLY, CANTOPEN
_ERRNO = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY, errno.EACCES: READ_ONLY, errno.EPERM: READ_ONLY}


def classify(exc: BaseException) -> str | None:
    """FULL, LOCKED or READ_ONLY when the exception says the server cannot write; else None."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in _SQLITE:
            return _SQLITE[code & 0xFF]
        text = str(exc).lower()
        if "full" in text:
            return FULL
        if "locked" in text or "busy" in text:
            return LOCKED
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return READ_ONLY
        return None
    if isinstance(exc, OSError):
        return _ERRNO.get(exc.errno)
    return None


def message(kind: str) -> str:
    return {
        FULL: _("The server's disk is full: nothing was saved. Your entries are kept and will be sent again."),
        LOCKED: _("The database is busy (another program holds it): nothing was saved. Try again in a moment."),
        READ_ONLY: _("The server cannot write its data at the moment: nothing was saved. Your entries are kept and will be sent again."),
    }[kind]


def response(kind: str, path: str):
    headers = {"Retry-After": str(RETRY_AFTER[kind]), "Cache-Control": "no-store"}
    if path.startswith("/api/") or path == "/health":
        return JSONResponse({"error": message(kind), "detail": {"reason": kind}}, 503, headers=headers)
    return HTMLResponse(f"<!doctype html><title>503</title><p>{message(kind)}</p>", 503, headers=headers)


class StorageGuard:
    """ASGI middleware: a storage failure anywhere below answers 503 (if nothing was sent yet)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            kind = classify(exc)
            if kind is None or started:
                raise
            log.error("storage unavailable (%s) on %s %s: %s", kind, scope.get("method"), scope.get("path"), exc)
            await response(kind, scope.get("path", ""))(scope, receive, send)


def remove_temp_files(data_dir: Path) -> int:
    """Delete the temporary files a killed process left (photo writes, backups in progress)."""
    removed = 0
    patterns = ("uploads/*/.tmp-*", "uploads/.tmp-*", "*.partial")
    for pattern in patterns:
        for path in Path(data_dir).glob(pattern):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    if removed:
        log.warning("removed %d temporary file(s) left by an interrupted write", removed)
    return removed
