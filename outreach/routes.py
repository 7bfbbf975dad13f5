"""The one route table. Every route is named and says who may use it (see access.py).

Add routes in your area's section only.
"""

from __future__ import annotations

from starlette.routing import Mount

from .access import ADMIN, OFFICE, PUBLIC, STAFF, route  # noqa: F401 (used by every section)
from .assets import STATIC_DIR, HashedStaticFiles
from .views import auth, pages


def routes() -> list:
    return [
        # --- core -------------------------------------------------------------------
        route("/", pages.home, name="home", allow=PUBLIC),
        route("/health", pages.health, name="health", allow=PUBLIC),
        route("/lang/{code}", pages.set_language, name="set_language", allow=PUBLIC),
        route("/login", auth.login_page, name="login", allow=PUBLIC, methods=["GET"]),
        route("/login", auth.login_submit, name="login_submit", allow=PUBLIC, methods=["POST"]),
        route("/logout", auth.logout_submit, name="logout", allow=PUBLIC, methods=["POST"]),
        route("/api/v1/session", auth.api_sign_in, name="api_sign_in", allow=PUBLIC, methods=["POST"]),
        route("/api/v1/session", auth.api_whoami, name="api_whoami", allow=PUBLIC, methods=["GET"]),
        route("/api/v1/session", auth.api_sign_out, name="api_sign_out", allow=PUBLIC, methods=["DELETE"]),
        Mount("/static", app=HashedStaticFiles(directory=STATIC_DIR), name="static"),
        #
        # --- field app and sync (issue 3) ---------------------------------------------
        #
        #
        #
        # --- worksites: reports, tracking, triage, Open311 (issue 4) -------------------
        #
        #
        #
        # --- coordinators and admins (issue 5) ---------------------------------------
        #
        #
        #
    ]
