"""Static files with content-hashed URLs (long cache lifetimes, no build step)."""

from __future__ import annotations

import hashlib
import re
from email.utils import formatdate
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles

from .settings import REPO_ROOT

STATIC_DIR = REPO_ROOT / "static"

# A line that holds only a comment, and a comment after a statement: the scripts are written for
# people, phones fetch them on weak networks (a sixth of their compressed size was comments).
COMMENTS = re.compile(r"^[ \t]*//.*$|(?<=[;,{)])[ \t]+// .*$", re.M)


def without_comments(script: str) -> str:
    """A script as phones get it: its // comments emptied, its lines kept (so that an error's line
    number is the file's). Written for our scripts, which have no multi-line string with a line
    starting with //, nor a string holding ";" then " // " (tests/test_static_scripts.py)."""
    return COMMENTS.sub("", script)


def file_hashes(root: Path = STATIC_DIR) -> dict[str, str]:
    """Relative path -> first 12 hex digits of its sha256, for every file under static/."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return out


class HashedStaticFiles(StaticFiles):
    """Static files; a request carrying ?v=<hash> may be cached for a year. Scripts are served
    without their comments (``without_comments``), made once per version of the file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scripts: dict[str, tuple[tuple, bytes, str]] = {}

    def file_response(self, full_path, stat_result, scope, status_code=200):
        if str(full_path).endswith(".js"):
            response = self._script(full_path, stat_result, status_code)
            if self.is_not_modified(response.headers, Headers(scope=scope)):
                response = NotModifiedResponse(response.headers)
        else:
            response = super().file_response(full_path, stat_result, scope, status_code)
        if b"v=" in scope.get("query_string", b""):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response

    def _script(self, full_path, stat_result, status_code: int) -> Response:
        key = (stat_result.st_mtime_ns, stat_result.st_size)
        kept = self._scripts.get(str(full_path))
        if kept is None or kept[0] != key:
            body = without_comments(Path(full_path).read_text(encoding="utf-8")).encode("utf-8")
            kept = self._scripts[str(full_path)] = (key, body, hashlib.sha256(body).hexdigest()[:32])
        _, body, etag = kept
        return Response(body, status_code=status_code, media_type="text/javascript", headers={
            "etag": f'"{etag}"', "last-modified": formatdate(stat_result.st_mtime, usegmt=True)})
