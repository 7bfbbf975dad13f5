"""Static files with content-hashed URLs (long cache lifetimes, no build step)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.staticfiles import StaticFiles

from .settings import REPO_ROOT

STATIC_DIR = REPO_ROOT / "static"


def file_hashes(root: Path = STATIC_DIR) -> dict[str, str]:
    """Relative path -> first 12 hex digits of its sha256, for every file under static/."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return out


class HashedStaticFiles(StaticFiles):
    """Static files; a request carrying ?v=<hash> may be cached for a year."""

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        if b"v=" in scope.get("query_string", b""):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response
