"""Signing out ends the session on the server, and only the latest password-reset link opens."""

from __future__ import annotations

from starlette.testclient import TestClient

from conftest import PASSWORD
from outreach.web import SESSION_COOKIE
from tests.test_admin import csrf, link_in


def signed_in(app, user) -> tuple[TestClient, str]:
    c = TestClient(app, base_url="http://testserver")
    assert c.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 200
    return c, c.cookies.get(SESSION_COOKIE)


def with_cookie(app, cookie: str) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    c.cookies.set(SESSION_COOKIE, cookie)
    return c


def test_a_copied_session_cookie_is_dead_after_api_sign_out(app, make_user):
    user = make_user("field")
    c, cookie = signed_in(app, user)
    assert c.delete("/api/v1/session").status_code == 200
    assert with_cookie(app, cookie).get("/api/v1/session").status_code == 401


def test_a_copied_session_cookie_is_dead_after_the_logout_form(app, make_user):
    user = make_user("coordinator")
    c, cookie = signed_in(app, user)
    c.get("/login")
    assert c.post("/logout", data={"csrf_token": csrf(c)}, follow_redirects=False).status_code == 303
    assert with_cookie(app, cookie).get("/coordinator", follow_redirects=False).status_code == 303


def test_signing_out_on_one_phone_keeps_the_other_signed_in(app, make_user):
    user = make_user("field")
    phone_a, _ = signed_in(app, user)
    phone_b, _ = signed_in(app, user)
    phone_a.delete("/api/v1/session")
    assert phone_b.get("/api/v1/session").status_code == 200


def test_only_the_latest_reset_link_opens(admin_client, make_user, client):
    user = make_user("field")
    first = link_in(admin_client.post(f"/admin/users/{user['id']}/reset", data={"csrf_token": csrf(admin_client)}).text)
    second = link_in(admin_client.post(f"/admin/users/{user['id']}/reset", data={"csrf_token": csrf(admin_client)}).text)
    assert client.get(first).status_code == 400
    r = client.post(first, data={"csrf_token": csrf(client), "password": "brand-new-pass-9", "password_confirm": "brand-new-pass-9"})
    assert r.status_code == 400
    assert client.get(second).status_code == 200


def test_another_sites_malformed_cookie_does_not_sign_anyone_out(app, make_user):
    """A sibling site on the same domain may set cookies that http.cookies refuses as a whole."""
    user = make_user("field")
    _, cookie = signed_in(app, user)
    anonymous = TestClient(app, base_url="http://testserver")
    for header in (f'tracker="unclosed; {SESSION_COOKIE}={cookie}', f'{SESSION_COOKIE}={cookie}; a,b=c; x=[1]',
                   f'weird\\name=1; {SESSION_COOKIE}={cookie}'):
        r = anonymous.get("/api/v1/session", headers={"Cookie": header})
        assert r.status_code == 200 and r.json()["user"]["id"] == user["id"], header
    # A session cookie that is not ours (tampered) is still nobody.
    r = anonymous.get("/api/v1/session", headers={"Cookie": f"{SESSION_COOKIE}={cookie[:-2]}xx"})
    assert r.status_code == 401
