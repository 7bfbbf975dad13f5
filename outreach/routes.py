"""The one route table. Every route is named and says who may use it (see access.py).

Add routes in your area's section only.
"""

from __future__ import annotations

from starlette.routing import Mount

from .access import ADMIN, OFFICE, PUBLIC, STAFF, route  # noqa: F401 (used by every section)
from .assets import STATIC_DIR, HashedStaticFiles
from .views import auth, pages
from .views import api, field  # field app and sync (issue 3)


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
        route("/app", field.field_app, name="field_app", allow=PUBLIC),  # a shell: data comes from bootstrap
        route("/app/encounters", field.encounter_form, name="field_encounter_form", allow=STAFF, methods=["POST"]),
        route("/sw.js", field.service_worker, name="service_worker", allow=PUBLIC),
        route("/manifest.webmanifest", field.manifest, name="manifest", allow=PUBLIC),
        route("/api/v1/sync", api.sync_entries, name="api_sync", allow=STAFF, methods=["POST"]),
        route("/api/v1/bootstrap", api.bootstrap, name="api_bootstrap", allow=STAFF, methods=["GET"]),
        route("/api/v1/openapi.json", api.openapi_json, name="api_openapi", allow=PUBLIC, methods=["GET"]),
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
