"""The one route table. Every route is named and says who may use it (see access.py).

Add routes in your area's section only.
"""

from __future__ import annotations

from starlette.routing import Mount

from .access import ADMIN, OFFICE, PUBLIC, STAFF, route  # noqa: F401 (used by every section)
from .assets import STATIC_DIR, HashedStaticFiles
from .views import admin as admin_views
from .views import auth, pages
from .views import api, field  # field app and sync (issue 3)
from .views import coordinator, privacy  # coordinators (issue 5)


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
        route("/coordinator", coordinator.dashboard, name="dashboard", allow=OFFICE),
        route("/coordinator/encounters", coordinator.encounter_list, name="encounters", allow=OFFICE),
        route("/coordinator/outings", coordinator.outing_list, name="outings", allow=OFFICE),
        route("/coordinator/outings/{outing_id}", coordinator.outing_report, name="outing_report", allow=OFFICE),
        route("/coordinator/map", coordinator.map_page, name="map", allow=OFFICE),
        route("/coordinator/map.geojson", coordinator.map_data, name="map_data", allow=OFFICE),
        route("/coordinator/planning", coordinator.planning_page, name="planning", allow=OFFICE, methods=["GET"]),
        route("/coordinator/planning", coordinator.planning_submit, name="planning_submit", allow=OFFICE, methods=["POST"]),
        route("/coordinator/planning/{outing_id}/cancel", coordinator.planning_cancel, name="planning_cancel", allow=OFFICE, methods=["POST"]),
        route("/coordinator/exports", coordinator.exports_page, name="exports", allow=OFFICE),
        route("/coordinator/exports/{kind}.{fmt}", coordinator.export_download, name="export_download", allow=OFFICE),
        route("/coordinator/followups", coordinator.followup_list, name="followups", allow=OFFICE),
        route("/coordinator/followups/{contact_id}/done", coordinator.followup_done, name="followup_done", allow=OFFICE, methods=["POST"]),
        route("/coordinator/devices", coordinator.device_list, name="devices", allow=OFFICE),
        route("/coordinator/audit", coordinator.audit_log, name="audit", allow=OFFICE),
        route("/coordinator/privacy", privacy.privacy_page, name="privacy", allow=OFFICE, methods=["GET"]),
        route("/coordinator/privacy", privacy.privacy_search, name="privacy_search", allow=OFFICE, methods=["POST"]),
        route("/coordinator/privacy/export", privacy.privacy_export, name="privacy_export", allow=OFFICE, methods=["POST"]),
        route("/coordinator/privacy/erase", privacy.privacy_erase, name="privacy_erase", allow=OFFICE, methods=["POST"]),
        route("/coordinator/privacy/purge", privacy.privacy_purge, name="privacy_purge", allow=OFFICE, methods=["POST"]),
        route("/admin/users", admin_views.users_page, name="admin_users", allow=ADMIN, methods=["GET"]),
        route("/admin/users/invite", admin_views.invite, name="admin_invite", allow=ADMIN, methods=["POST"]),
        route("/admin/users/{user_id}/role", admin_views.change_role, name="admin_role", allow=ADMIN, methods=["POST"]),
        route("/admin/users/{user_id}/active", admin_views.set_active, name="admin_active", allow=ADMIN, methods=["POST"]),
        route("/admin/users/{user_id}/reset", admin_views.reset_link, name="admin_reset_link", allow=ADMIN, methods=["POST"]),
        route("/admin/reference", admin_views.reference_page, name="admin_reference", allow=ADMIN, methods=["GET"]),
        route("/admin/reference/{table}", admin_views.reference_save, name="admin_reference_save", allow=ADMIN, methods=["POST"]),
        route("/admin/consent", admin_views.consent_add, name="admin_consent_add", allow=ADMIN, methods=["POST"]),
        route("/invite/{token}", admin_views.invite_page, name="invite_accept", allow=PUBLIC, methods=["GET"]),
        route("/invite/{token}", admin_views.invite_submit, name="invite_submit", allow=PUBLIC, methods=["POST"]),
        route("/reset/{token}", admin_views.reset_page, name="password_reset", allow=PUBLIC, methods=["GET"]),
        route("/reset/{token}", admin_views.reset_submit, name="password_reset_submit", allow=PUBLIC, methods=["POST"]),
        Mount("/vendor/leaflet", app=HashedStaticFiles(directory=coordinator.LEAFLET_DIR), name="leaflet"),
    ]
