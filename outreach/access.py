"""Who may use each route: declared with the route, checked here in one place."""

from __future__ import annotations

import functools
import inspect
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from . import vocab
from .i18n import gettext as _
from .web import ApiError, current_user

STAFF = frozenset(vocab.ROLES)  # every role
PUBLIC = STAFF | {"anonymous"}
OFFICE = frozenset({"coordinator", "admin"})
ADMIN = frozenset({"admin"})


def role_of(user: dict | None) -> str:
    return user["role"] if user else "anonymous"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _guard(endpoint, allow: frozenset[str]):
    is_async = inspect.iscoroutinefunction(endpoint)

    @functools.wraps(endpoint)
    async def guarded(request: Request):
        user = current_user(request)
        role = role_of(user)
        if role not in allow:
            if user is None:
                if is_api(request):
                    raise ApiError(401, _("You are signed out. Sign in again; nothing waiting on your phone is lost."))
                target = request.url.path + (("?" + request.url.query) if request.url.query else "")
                login = request.url_for("login").path
                return RedirectResponse(f"{login}?next={quote(target)}", status_code=303)
            if is_api(request):
                raise ApiError(403, _("Your account is not allowed to do this."))
            raise HTTPException(403, _("Your account is not allowed to see this page."))
        if is_async:
            return await endpoint(request)
        return await run_in_threadpool(endpoint, request)

    return guarded


class AppRoute(Route):
    """A Route that carries who may use it (``allow``) and enforces it."""

    def __init__(self, path: str, endpoint, *, name: str, allow: frozenset[str], methods: list[str] | None = None):
        if allow not in (PUBLIC, STAFF, OFFICE, ADMIN):
            raise ValueError(f"route {name}: allow must be PUBLIC, STAFF, OFFICE or ADMIN")
        self.allow = allow
        super().__init__(path, _guard(endpoint, allow), name=name, methods=methods)


    async def handle(self, scope, receive, send):
        # Several routes may share a path (one per method): a 405 names every method the path has.
        if self.methods and scope["method"] not in self.methods and getattr(self, "path_methods", None):
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(self.path_methods))})
        await super().handle(scope, receive, send)


def share_allowed_methods(routes: list) -> list:
    """Tell each route every method its path answers to (for the Allow header of a 405)."""
    by_path: dict[str, set[str]] = {}
    for r in routes:
        if isinstance(r, AppRoute) and r.methods:
            by_path.setdefault(r.path, set()).update(r.methods)
    for r in routes:
        if isinstance(r, AppRoute) and r.methods:
            r.path_methods = by_path[r.path]
    return routes


def route(path: str, endpoint, *, name: str, allow: frozenset[str], methods: list[str] | None = None) -> AppRoute:
    return AppRoute(path, endpoint, name=name, allow=allow, methods=methods)
