"""The one route table. Every route is named and says who may use it (see access.py).

Add routes in your area's section only.
"""

from __future__ import annotations

from starlette.routing import Mount

from .access import ADMIN, OFFICE, PUBLIC, STAFF, route  # noqa: F401 (used by every section)
from .assets import STATIC_DIR, HashedStaticFiles
from .views import admin as admin_views
from .views import zones as zones_views
from .views import auth, pages
from .views import api, field  # field app and sync
from .views import open311 as open311_views, public, reports_api, triage  # worksites
from .views import privacy  # coordinators
from .views.coordinator import dashboard, exports, followups, lists, map as coverage_map, planning
from .views import mail as mail_views  # mail


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
        # --- field app and sync -------------------------------------------------------
        route("/app", field.field_app, name="field_app", allow=PUBLIC),  # a shell: data comes from bootstrap
        route("/app/encounters", field.encounter_form, name="field_encounter_form", allow=STAFF, methods=["POST"]),
        route("/sw.js", field.service_worker, name="service_worker", allow=PUBLIC),
        route("/manifest.webmanifest", field.manifest, name="manifest", allow=PUBLIC),
        route("/offline", field.offline_page, name="offline_page", allow=PUBLIC, methods=["GET"]),  # precached
        route("/api/v1/sync", api.sync_entries, name="api_sync", allow=STAFF, methods=["POST"]),
        route("/api/v1/bootstrap", api.bootstrap, name="api_bootstrap", allow=STAFF, methods=["GET"]),
        route("/api/v1/openapi.json", api.openapi_json, name="api_openapi", allow=PUBLIC, methods=["GET"]),
        #
        # --- worksites: reports, tracking, triage, Open311 ------------------------------
        route("/report", public.report_form, name="report_form", allow=PUBLIC, methods=["GET"]),
        route("/report", public.report_submit, name="report_submit", allow=PUBLIC, methods=["POST"]),
        route("/track/{token}", public.track, name="track", allow=PUBLIC, methods=["GET"]),
        route("/track/{token}/info", public.track_info, name="track_info", allow=PUBLIC, methods=["POST"]),
        route("/track/{token}/photos/{sha256}", public.track_photo, name="track_photo", allow=PUBLIC, methods=["GET"]),
        route("/worksites", public.worksites, name="worksites", allow=PUBLIC, methods=["GET"]),
        route("/worksites/{report_id}/volunteer", public.volunteer, name="worksite_volunteer", allow=PUBLIC, methods=["POST"]),
        route("/photos/{sha256}", public.photo, name="photo", allow=PUBLIC, methods=["GET"]),
        route("/api/v1/reports", reports_api.submit_reports, name="api_reports", allow=PUBLIC, methods=["POST"]),
        route("/api/v1/reports/nearby", reports_api.nearby, name="api_reports_nearby", allow=PUBLIC, methods=["GET"]),
        route("/api/v1/reports/{report_id}/me-too", reports_api.me_too, name="api_report_me_too", allow=PUBLIC, methods=["POST"]),
        route("/api/v1/attachments/{sha256}", reports_api.upload_attachment, name="api_attachment", allow=PUBLIC, methods=["PUT"]),
        route("/coordinator/reports", triage.queue, name="triage", allow=OFFICE, methods=["GET"]),
        route("/coordinator/reports/bulk", triage.bulk, name="triage_bulk", allow=OFFICE, methods=["POST"]),
        route("/coordinator/reports/{report_id}", triage.detail, name="triage_detail", allow=OFFICE, methods=["GET"]),
        route("/coordinator/reports/{report_id}/status", triage.change_status, name="triage_status", allow=OFFICE, methods=["POST"]),
        route("/coordinator/reports/{report_id}/reply", triage.reply, name="triage_reply", allow=OFFICE, methods=["POST"]),
        route("/coordinator/reports/{report_id}/merge", triage.merge, name="triage_merge", allow=OFFICE, methods=["POST"]),
        route("/open311/v2/discovery.{fmt}", open311_views.discovery, name="open311_discovery", allow=PUBLIC, methods=["GET"]),
        route("/open311/v2/services.{fmt}", open311_views.services, name="open311_services", allow=PUBLIC, methods=["GET"]),
        route("/open311/v2/services/{code}.{fmt}", open311_views.service_definition, name="open311_service", allow=PUBLIC, methods=["GET"]),
        route("/open311/v2/requests.{fmt}", open311_views.requests_list, name="open311_requests", allow=PUBLIC, methods=["GET"]),
        route("/open311/v2/requests.{fmt}", open311_views.requests_post, name="open311_requests_post", allow=PUBLIC, methods=["POST"]),
        route("/open311/v2/requests/{request_id}.{fmt}", open311_views.request_one, name="open311_request", allow=PUBLIC, methods=["GET"]),
        route("/open311/v2/tokens/{token}.{fmt}", open311_views.token, name="open311_token", allow=PUBLIC, methods=["GET"]),
        #
        # --- coordinators and admins -------------------------------------------------
        route("/coordinator", dashboard.dashboard, name="dashboard", allow=OFFICE),
        route("/coordinator/encounters", lists.encounter_list, name="encounters", allow=OFFICE),
        route("/coordinator/outings", lists.outing_list, name="outings", allow=OFFICE),
        route("/coordinator/outings/{outing_id}", lists.outing_report, name="outing_report", allow=OFFICE),
        route("/coordinator/map", coverage_map.map_page, name="map", allow=OFFICE),
        route("/coordinator/map.geojson", coverage_map.map_data, name="map_data", allow=OFFICE),
        route("/coordinator/planning", planning.planning_page, name="planning", allow=OFFICE, methods=["GET"]),
        route("/coordinator/planning", planning.planning_submit, name="planning_submit", allow=OFFICE, methods=["POST"]),
        route("/coordinator/planning/{outing_id}/cancel", planning.planning_cancel_confirm, name="planning_cancel_confirm", allow=OFFICE, methods=["GET"]),
        route("/coordinator/planning/{outing_id}/cancel", planning.planning_cancel, name="planning_cancel", allow=OFFICE, methods=["POST"]),
        route("/coordinator/exports", exports.exports_page, name="exports", allow=OFFICE),
        route("/coordinator/exports/{kind}.{fmt}", exports.export_download, name="export_download", allow=OFFICE, methods=["POST"]),
        route("/coordinator/followups", followups.followup_list, name="followups", allow=OFFICE),
        route("/coordinator/followups/{contact_id}/done", followups.followup_done, name="followup_done", allow=OFFICE, methods=["POST"]),
        route("/coordinator/devices", lists.device_list, name="devices", allow=OFFICE),
        route("/coordinator/audit", lists.audit_log, name="audit", allow=OFFICE),
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
        route("/admin/zones/import", zones_views.import_page, name="admin_zones_import", allow=ADMIN, methods=["GET"]),
        route("/admin/zones/import", zones_views.import_preview, name="admin_zones_import_preview", allow=ADMIN, methods=["POST"]),
        route("/admin/zones/import/confirm", zones_views.import_confirm, name="admin_zones_import_confirm", allow=ADMIN,
              methods=["POST"]),
        route("/admin/consent", admin_views.consent_add, name="admin_consent_add", allow=ADMIN, methods=["POST"]),
        route("/admin/api-keys", admin_views.api_keys_page, name="admin_api_keys", allow=ADMIN, methods=["GET"]),
        route("/admin/api-keys", admin_views.api_key_create, name="admin_api_key_create", allow=ADMIN, methods=["POST"]),
        route("/admin/api-keys/{key_id}/revoke", admin_views.api_key_revoke, name="admin_api_key_revoke", allow=ADMIN, methods=["POST"]),
        route("/invite/{token}", admin_views.invite_page, name="invite_accept", allow=PUBLIC, methods=["GET"]),
        route("/invite/{token}", admin_views.invite_submit, name="invite_submit", allow=PUBLIC, methods=["POST"]),
        route("/reset/{token}", admin_views.reset_page, name="password_reset", allow=PUBLIC, methods=["GET"]),
        route("/reset/{token}", admin_views.reset_submit, name="password_reset_submit", allow=PUBLIC, methods=["POST"]),
        Mount("/vendor/leaflet", app=HashedStaticFiles(directory=coverage_map.LEAFLET_DIR), name="leaflet"),
        #
        # --- mail: failures (admins), unsubscribe (signed link), campaigns (coordinators) ------
        route("/admin/mail", mail_views.admin_mail, name="admin_mail", allow=ADMIN, methods=["GET"]),
        route("/admin/mail/{mail_id}/retry", mail_views.admin_mail_retry, name="admin_mail_retry", allow=ADMIN, methods=["POST"]),
        route("/unsubscribe/{token}", mail_views.unsubscribe_page, name="unsubscribe", allow=PUBLIC, methods=["GET"]),
        route("/unsubscribe/{token}", mail_views.unsubscribe_submit, name="unsubscribe_submit", allow=PUBLIC, methods=["POST"]),
        route("/coordinator/followups/messages", mail_views.campaign_list, name="campaigns", allow=OFFICE, methods=["GET"]),
        route("/coordinator/followups/messages", mail_views.campaign_submit, name="campaign_submit", allow=OFFICE, methods=["POST"]),
        route("/coordinator/followups/messages/{campaign_id}", mail_views.campaign_page, name="campaign", allow=OFFICE, methods=["GET"]),
    ]
