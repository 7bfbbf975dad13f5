"""Every route of the route table, for every kind of visitor, against an explicit decision.

A route added without a line in EXPECTED fails this test: each new URL needs a decision
about who may use it.
"""

import uuid

import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient

from outreach.access import ADMIN, OFFICE, PUBLIC, STAFF
from outreach import users
from outreach.security import new_csrf_token
from outreach.web import CSRF_COOKIE, SESSION_COOKIE

ROLES = ("anonymous", "field", "coordinator", "admin")

EXPECTED = {
    # core
    "home": PUBLIC, "health": PUBLIC, "set_language": PUBLIC, "login": PUBLIC, "login_submit": PUBLIC, "logout": PUBLIC,
    "api_sign_in": PUBLIC, "api_whoami": PUBLIC, "api_sign_out": PUBLIC, "static": PUBLIC,
    # field app and sync
    "field_app": PUBLIC, "service_worker": PUBLIC, "manifest": PUBLIC, "api_sync": STAFF, "api_bootstrap": STAFF,
    "api_openapi": PUBLIC, "field_encounter_form": STAFF, "offline_page": PUBLIC,
    # worksites: residents report and follow anonymously; triage is office work
    "report_form": PUBLIC, "report_submit": PUBLIC, "track": PUBLIC, "track_info": PUBLIC, "track_photo": PUBLIC,
    "worksites": PUBLIC, "worksite_volunteer": PUBLIC, "photo": PUBLIC, "api_reports": PUBLIC, "api_reports_nearby": PUBLIC,
    "api_report_me_too": PUBLIC, "api_attachment": PUBLIC,
    "triage": OFFICE, "triage_bulk": OFFICE, "triage_detail": OFFICE, "triage_status": OFFICE, "triage_reply": OFFICE,
    "triage_merge": OFFICE,
    "open311_discovery": PUBLIC, "open311_services": PUBLIC, "open311_service": PUBLIC, "open311_requests": PUBLIC,
    "open311_requests_post": PUBLIC, "open311_request": PUBLIC, "open311_token": PUBLIC,
    # coordinators and admins
    "dashboard": OFFICE, "encounters": OFFICE, "outings": OFFICE, "outing_report": OFFICE, "map": OFFICE, "map_data": OFFICE,
    "planning": OFFICE, "planning_submit": OFFICE, "planning_cancel": OFFICE, "planning_cancel_confirm": OFFICE, "exports": OFFICE, "export_download": OFFICE,
    "followups": OFFICE, "followup_done": OFFICE, "devices": OFFICE, "audit": OFFICE, "privacy": OFFICE,
    "privacy_search": OFFICE, "privacy_export": OFFICE, "privacy_erase": OFFICE, "privacy_purge": OFFICE,
    "admin_users": ADMIN, "admin_invite": ADMIN, "admin_role": ADMIN, "admin_active": ADMIN, "admin_reset_link": ADMIN,
    "admin_reference": ADMIN, "admin_reference_save": ADMIN, "admin_consent_add": ADMIN,
    "admin_zones_import": ADMIN, "admin_zones_import_preview": ADMIN, "admin_zones_import_confirm": ADMIN,
    "admin_api_keys": ADMIN, "admin_api_key_create": ADMIN, "admin_api_key_revoke": ADMIN,
    "invite_accept": PUBLIC, "invite_submit": PUBLIC, "password_reset": PUBLIC, "password_reset_submit": PUBLIC,
    "leaflet": PUBLIC,
    # mail: failures are admin work, unsubscribe opens with a signed link, campaigns are office work
    "admin_mail": ADMIN, "admin_mail_retry": ADMIN, "unsubscribe": PUBLIC, "unsubscribe_submit": PUBLIC,
    "campaigns": OFFICE, "campaign_submit": OFFICE, "campaign": OFFICE,
}
# Values for path parameters (anything not listed gets a harmless word).
PARAMS = {"outing_id": str(uuid.uuid4()), "contact_id": str(uuid.uuid4()), "user_id": "999999", "table": "zones",
          "token": "not-a-token", "kind": "encounters", "fmt": "csv", "code": "fr", "path": "app.css",
          "key_id": "999999", "report_id": str(uuid.uuid4()), "request_id": str(uuid.uuid4()), "sha256": "0" * 64,
          "mail_id": "999999", "campaign_id": "999999"}
# Public routes whose own answer is a refusal for some visitors (not an access decision).
OWN_ANSWER = {("api_whoami", "anonymous"): 401}
MOUNT_FILES = {"static": "/static/app.css", "leaflet": "/vendor/leaflet/leaflet.css"}


def all_routes(app):
    return [r for r in app.routes]


def test_every_route_has_a_decision(app):
    names = [r.name for r in all_routes(app)]
    missing = sorted(set(names) - set(EXPECTED))
    assert not missing, f"routes without an access decision in EXPECTED: {missing}"
    stale = sorted(set(EXPECTED) - set(names))
    assert not stale, f"EXPECTED names routes that no longer exist: {stale}"
    for r in all_routes(app):
        if not isinstance(r, Mount):
            assert r.allow == EXPECTED[r.name], f"{r.name}: declared {sorted(r.allow)}, expected {sorted(EXPECTED[r.name])}"


@pytest.fixture
def sessions(app, make_user):
    """A fresh session cookie per role and per request (signing out ends one), made as the
    sign-in does but without the slow password check."""
    users_by_role = {role: make_user(role) for role in ROLES[1:]}

    class Fresh(dict):
        def __getitem__(self, role):
            if role == "anonymous":
                return None
            user = users_by_role[role]
            with app.state.store.write() as db:
                sid = users.start_session(db, user["id"], 3600)
            return app.state.signer.dumps("session", {"uid": user["id"], "epoch": user["session_epoch"], "sid": sid})

    return Fresh()


def _path(route) -> str:
    path = route.path
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", PARAMS.get(name, "x"))
    return path


def _request(app, cookie, method, path):
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    # The CSRF token the server would have given this session's pages.
    sid = (app.state.signer.loads("session", cookie) or {}).get("sid") if cookie else None
    token = new_csrf_token(app.state.signer, sid)
    client.cookies.set(CSRF_COOKIE, token)
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    if path.startswith("/api/"):
        return client.request(method, path, json={})
    if method == "GET":
        return client.get(path)
    return client.request(method, path, data={"csrf_token": token})


def test_each_route_answers_each_role_as_declared(app, sessions):
    checked = 0
    for route in all_routes(app):
        allow = EXPECTED[route.name]
        if isinstance(route, Mount):
            for role in ROLES:
                assert _request(app, sessions[role], "GET", MOUNT_FILES[route.name]).status_code == 200
            continue
        path = _path(route)
        for method in sorted(route.methods - {"HEAD"}):
            for role in ROLES:
                r = _request(app, sessions[role], method, path)
                where = f"{method} {path} as {role}: {r.status_code}"
                assert r.status_code < 500, where
                if (route.name, role) in OWN_ANSWER:
                    assert r.status_code == OWN_ANSWER[(route.name, role)], where
                elif role in allow:
                    assert r.status_code not in (401, 403), where
                elif role == "anonymous":
                    if path.startswith("/api/"):
                        assert r.status_code == 401 and r.json()["error"], where
                    else:
                        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), where
                else:
                    assert r.status_code == 403, where
                checked += 1
    assert checked > 100
