"""Administration: invitations and reset links (signed, expiring, one-time), roles, deactivation, reference data."""

import html
import re

import itsdangerous
import pytest

from outreach import admin, refdata
from outreach.security import Signer


def csrf(client):
    client.get("/login")
    return client.cookies.get("outreach_csrf")


def link_in(page: str) -> str:
    url = html.unescape(re.search(r'id="one-time-link" type="text" readonly value="([^"]+)"', page).group(1))
    return url.replace("http://testserver", "")


def invite(admin_client, email="new.person@example.org", role="field") -> str:
    r = admin_client.post("/admin/users/invite", data={"csrf_token": csrf(admin_client), "email": email, "role": role})
    assert r.status_code == 200, r.text
    return link_in(r.text)


def accept(client, path, name="Camille", password="a-good-password-1", confirm=None):
    client.get(path) if client.cookies.get("outreach_csrf") is None else None
    return client.post(path, data={"csrf_token": csrf(client), "display_name": name, "password": password,
                                   "password_confirm": confirm or password}, follow_redirects=False)


def test_invitation_creates_the_account_once(admin_client, client, store):
    path = invite(admin_client, role="coordinator")
    assert path.startswith("/invite/")
    assert client.get(path).status_code == 200
    r = accept(client, path, password="short", confirm="short")
    assert r.status_code == 400 and "10 à 200" in r.text
    r = accept(client, path)
    assert r.status_code == 303
    user = store.db().execute("select role, display_name from users where email = 'new.person@example.org'").fetchone()
    assert user == ("coordinator", "Camille")
    assert client.post("/api/v1/session", json={"email": "new.person@example.org", "password": "a-good-password-1"}).status_code == 200
    # Already used: refused, and nothing changes.
    assert client.get(path).status_code == 400
    assert accept(client, path, name="Intruder").status_code == 400
    assert store.db().execute("select count(*) from users where display_name = 'Intruder'").fetchone()[0] == 0
    actions = [r[0] for r in store.db().execute("select action from audit_log order by id")]
    assert "invitation" in actions and "invitation_accepted" in actions


def test_tampered_expired_and_foreign_links_are_refused(admin_client, client, app, monkeypatch):
    path = invite(admin_client)
    token = path.rsplit("/", 1)[1]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get(f"/invite/{tampered}").status_code == 400
    # A session-purpose token is not an invitation.
    session_token = app.state.signer.dumps("session", {"email": "x@example.org", "role": "admin", "jti": "1"})
    assert client.get(f"/invite/{session_token}").status_code == 400
    assert client.get("/invite/" + "A" * 5000).status_code in (400, 404, 414)
    # Expired: a link made eight days ago (the limit is seven).
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) - 8 * 86400)
    old = "/invite/" + admin.invitation_token(app.state.signer, {"email": "late@example.org", "role": "field"}, by=1)
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    assert client.get(old).status_code == 400
    assert accept(client, old).status_code == 400


def test_password_reset_link_once_and_ends_sessions(admin_client, field_client, client, store):
    user = field_client.user
    r = admin_client.post(f"/admin/users/{user['id']}/reset", data={"csrf_token": csrf(admin_client)})
    path = link_in(r.text)
    assert path.startswith("/reset/")
    assert client.get(path).status_code == 200
    r = client.post(path, data={"csrf_token": csrf(client), "password": "brand-new-pass-9", "password_confirm": "brand-new-pass-9"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert field_client.get("/api/v1/session").status_code == 401  # the old session is over
    assert client.post("/api/v1/session", json={"email": user["email"], "password": "brand-new-pass-9"}).status_code == 200
    assert client.get(path).status_code == 400  # used
    r = client.post(path, data={"csrf_token": csrf(client), "password": "another-pass-99", "password_confirm": "another-pass-99"})
    assert r.status_code == 400
    # A reset link is not an invitation, nor the other way round.
    assert client.get(path.replace("/reset/", "/invite/")).status_code == 400


def test_deactivation_ends_sessions_at_once(admin_client, field_client):
    assert field_client.get("/api/v1/session").status_code == 200
    r = admin_client.post(f"/admin/users/{field_client.user['id']}/active", data={"csrf_token": csrf(admin_client), "active": "0"})
    assert r.status_code == 200 and "Compte désactivé" in r.text
    assert field_client.get("/api/v1/session").status_code == 401
    r = field_client.post("/api/v1/session", json={"email": field_client.user["email"], "password": "secret-pass-123"})
    assert r.status_code == 401


def test_roles_change_and_last_admin_is_protected(admin_client, make_user, store):
    worker = make_user("field")
    token = csrf(admin_client)
    r = admin_client.post(f"/admin/users/{worker['id']}/role", data={"csrf_token": token, "role": "coordinator"})
    assert r.status_code == 200
    assert store.db()["users"].get(worker["id"])["role"] == "coordinator"
    me = admin_client.user["id"]
    r = admin_client.post(f"/admin/users/{me}/role", data={"csrf_token": token, "role": "field"})
    assert r.status_code == 400 and "dernier administrateur" in r.text
    r = admin_client.post(f"/admin/users/{me}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 400
    r = admin_client.post(f"/admin/users/{worker['id']}/role", data={"csrf_token": token, "role": "superuser"})
    assert r.status_code == 400 and store.db()["users"].get(worker["id"])["role"] == "coordinator"


def test_reference_data_and_consent_versions(admin_client, store):
    token = csrf(admin_client)
    r = admin_client.post("/admin/reference/zones", data={"csrf_token": token, "code": "secteur-7", "label_fr": "Secteur 7",
                                                          "label_en": "Sector 7", "sort": "7", "lat": "45.17", "lon": "5.70", "active": "1"})
    assert r.status_code == 200 and store.db()["zones"].get("secteur-7")["label_fr"] == "Secteur 7"
    r = admin_client.post("/admin/reference/tools", data={"csrf_token": token, "existing": "1", "code": "agora",
                                                          "label_fr": "Agora citoyenne", "label_en": "Agora", "sort": "4"})
    assert r.status_code == 200
    tool = store.db()["tools"].get("agora")
    assert tool["label_fr"] == "Agora citoyenne" and tool["active"] == 0  # unticked: no longer offered
    assert "agora" not in refdata.codes(store.db(), "tools")
    r = admin_client.post("/admin/consent", data={"csrf_token": token, "version": "2027-01",
                                                  "text_fr": "J'accepte d'être recontacté·e au sujet du budget participatif.",
                                                  "text_en": "I agree to be contacted again about the participatory budget."})
    assert r.status_code == 200
    assert refdata.current_consent(store.db())["version"] == "2027-01"
    assert store.db()["consent_texts"].count_where("purpose = 'follow_up'") == 2
    # Only the follow-up text changed: the reporter's and the volunteer's texts are still current.
    assert refdata.current_consent(store.db(), "reporter_contact")["version"] == "reporter-2026-01"
    assert refdata.current_consent(store.db(), "volunteer")["version"] == "volunteer-2026-01"
    r = admin_client.post("/admin/consent", data={"csrf_token": token, "version": "2027-01", "text_fr": "x" * 30, "text_en": "y" * 30})
    assert r.status_code == 400 and "existe déjà" in r.text


@pytest.mark.parametrize(
    "table, form, field",
    [
        ("zones", {"code": "<b>x</b>", "label_fr": "A", "label_en": "A"}, "code"),
        ("zones", {"code": "secteur-1", "label_fr": "A", "label_en": "A"}, "code"),  # exists already
        ("zones", {"code": "nouvelle", "label_fr": "A", "label_en": "A", "lat": "999"}, "lat"),
        ("zones", {"code": "nouvelle", "label_fr": "", "label_en": "A"}, "label_fr"),
        ("tools", {"code": "x'; drop table tools; --", "label_fr": "A", "label_en": "A"}, "code"),
        ("tools", {"code": "nouveau", "label_fr": "A" * 201, "label_en": "A"}, "label_fr"),
        ("categories", {"code": "nouveau", "label_fr": "A", "label_en": "A", "sort": "10000000000"}, "sort"),
        ("categories", {"code": "inexistant", "existing": "1", "label_fr": "A", "label_en": "A"}, "code"),
    ],
)
def test_bad_reference_input_is_refused_with_a_message(admin_client, store, table, form, field):
    before = list(store.db()[table].rows)
    r = admin_client.post(f"/admin/reference/{table}", data={"csrf_token": csrf(admin_client), **form})
    assert r.status_code == 400 and "Non enregistré" in r.text
    assert list(store.db()[table].rows) == before


def test_unknown_reference_table_is_404(admin_client):
    assert admin_client.post("/admin/reference/users", data={"csrf_token": csrf(admin_client), "code": "x"}).status_code == 404


@pytest.mark.parametrize("email, role", [("not-an-email", "field"), ("<script>@x.org", "field"), ("ok@example.org", "root"),
                                         ("a" * 300 + "@example.org", "field")])
def test_bad_invitations_are_refused(admin_client, store, email, role):
    r = admin_client.post("/admin/users/invite", data={"csrf_token": csrf(admin_client), "email": email, "role": role})
    assert r.status_code == 400 and "one-time-link" not in r.text
    assert store.db()["audit_log"].count == 0


def test_domain_links_carry_their_purpose_and_expire(fresh_db):
    signer = Signer("k" * 40)
    token = admin.invitation_token(signer, {"email": "a@example.org", "role": "field"}, by=1)
    assert admin.read_invitation(signer, token, max_age=60)["email"] == "a@example.org"
    assert admin.read_invitation(signer, token, max_age=-1) is None  # expired
    assert admin.read_invitation(Signer("other" * 10), token, max_age=60) is None
    assert signer.loads(admin.RESET, token, max_age=60) is None


def test_open311_api_keys_made_once_and_revoked(admin_client, store):
    from outreach.worksites import open311

    token = csrf(admin_client)
    r = admin_client.post("/admin/api-keys", data={"csrf_token": token, "name": "Appli Quartiers"})
    assert r.status_code == 200
    key = html.unescape(re.search(r'id="new-key" type="text" readonly value="([^"]+)"', r.text).group(1))
    assert open311.check_api_key(store.db(), key)["name"] == "Appli Quartiers"
    assert key not in admin_client.get("/admin/api-keys").text  # shown once only
    key_id = store.db().execute("select id from api_keys").fetchone()[0]
    r = admin_client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert r.status_code == 200 and open311.check_api_key(store.db(), key) is None
    assert admin_client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}).status_code == 400
    assert admin_client.post("/admin/api-keys", data={"csrf_token": token, "name": "   "}).status_code == 400
    actions = [r[0] for r in store.db().execute("select action from audit_log order by id")]
    assert actions == ["api_key.create", "api_key.revoke"]
