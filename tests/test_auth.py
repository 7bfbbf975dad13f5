"""Sign-in and sign-out: the JSON API and the HTML form, with hostile input."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from conftest import PASSWORD
from outreach.web import SESSION_COOKIE


def test_sign_in_sets_a_safe_session_cookie_and_sign_out_clears_it(client, make_user):
    user = make_user("field")
    r = client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["user"] == {"id": user["id"], "email": user["email"], "display_name": user["display_name"], "role": "field"}
    cookie = r.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see test below for https
    assert client.get("/api/v1/session").json()["user"]["id"] == user["id"]
    r = client.delete("/api/v1/session")
    assert r.status_code == 200
    assert client.get("/api/v1/session").status_code == 401


def test_session_cookie_is_secure_over_https(app, make_user):
    from starlette.testclient import TestClient

    user = make_user("field")
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD})
    assert "Secure" in r.headers["set-cookie"]


def test_email_is_case_insensitive(client, make_user):
    user = make_user("coordinator", email="Camille@Example.org")
    assert user["email"] == "camille@example.org"
    r = client.post("/api/v1/session", json={"email": "  CAMILLE@example.org ", "password": PASSWORD})
    assert r.status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user):
    user = make_user("field")
    a = client.post("/api/v1/session", json={"email": user["email"], "password": "wrong-password"})
    b = client.post("/api/v1/session", json={"email": "nobody@example.org", "password": "wrong-password"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert a.json()["error"] == "Adresse e-mail ou mot de passe incorrect."


def test_english_when_the_browser_asks(client):
    r = client.post("/api/v1/session", json={"email": "x@example.org", "password": "nope"}, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.json()["error"] == "Wrong email or password."


def test_deactivated_account_cannot_sign_in_and_its_sessions_end(client, make_user, store):
    user = make_user("field")
    assert client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 200
    with store.write() as db:
        db.execute("update users set active = 0, session_epoch = session_epoch + 1 where id = ?", [user["id"]])
    assert client.get("/api/v1/session").status_code == 401
    assert client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 401


def test_repeated_failures_are_throttled_with_retry_after(client, make_user, settings):
    user = make_user("field")
    for _ in range(settings.login_max_failures):
        assert client.post("/api/v1/session", json={"email": user["email"], "password": "bad-password"}).status_code == 401
    r = client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "Réessayez" in r.json()["error"]


BAD_BODIES = [
    ("not json", b"{email: nope", "application/json", 400),
    ("array", b"[]", "application/json", 400),
    ("string", b'"hello"', "application/json", 400),
    ("missing fields", b"{}", "application/json", 400),
    ("wrong types", b'{"email": 12, "password": ["a"]}', "application/json", 400),
    ("null fields", b'{"email": null, "password": null}', "application/json", 400),
    ("NaN", b'{"email": NaN, "password": "x"}', "application/json", 400),
    ("huge email", ('{"email": "' + "a" * 5000 + '@x.org", "password": "x"}').encode(), "application/json", 400),
    ("1 MB body", b'{"email": "' + b"a" * 1_000_000 + b'", "password": "x"}', "application/json", 413),
    ("form content type", b"email=a%40b.org&password=x", "application/x-www-form-urlencoded", 415),
    ("text content type", b'{"email": "a@b.org", "password": "x"}', "text/plain", 415),
    ("invalid utf-8", b'{"email": "\xff\xfe", "password": "x"}', "application/json", 400),
    ("lone surrogate", b'{"email": "\\ud800@x.org", "password": "\\udfff"}', "application/json", 400),
    ("SQL in email", b'{"email": "\' OR 1=1 --", "password": "\' OR \'1\'=\'1"}', "application/json", 401),
    ("HTML in email", b'{"email": "<script>alert(1)</script>@x.org", "password": "x"}', "application/json", 401),
]


@pytest.mark.parametrize("label,body,ctype,status", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_sign_in_input_gets_a_readable_4xx(client, label, body, ctype, status):
    r = client.post("/api/v1/session", content=body, headers={"Content-Type": ctype})
    assert r.status_code == status
    payload = r.json()
    assert set(payload) == {"error", "detail"} and isinstance(payload["error"], str) and payload["error"]
    assert "<script>" not in r.text


def test_forged_and_foreign_cookies_count_as_signed_out(client, make_user, settings):
    user = make_user("admin")
    client.cookies.set(SESSION_COOKIE, "eyJ1aWQiOjF9.forged.signature")
    assert client.get("/api/v1/session").status_code == 401
    other_key = URLSafeTimedSerializer("another-secret-key", salt="outreach.session")
    client.cookies.set(SESSION_COOKIE, other_key.dumps({"uid": user["id"], "epoch": 0}))
    assert client.get("/api/v1/session").status_code == 401
    # The right key but another purpose (a token made for something else) does not open a session either.
    wrong_purpose = URLSafeTimedSerializer(settings.secret_key, salt="outreach.invite")
    client.cookies.set(SESSION_COOKIE, wrong_purpose.dumps({"uid": user["id"], "epoch": 0}))
    assert client.get("/api/v1/session").status_code == 401


def test_expired_session_counts_as_signed_out(app, make_user, monkeypatch):
    from starlette.testclient import TestClient

    user = make_user("field")
    with TestClient(app) as c:
        assert c.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 200
        import itsdangerous.timed

        real = itsdangerous.timed.time.time
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + app.state.settings.session_max_age + 10)
        assert c.get("/api/v1/session").status_code == 401


def test_cross_site_post_is_refused(client, make_user):
    user = make_user("field")
    r = client.post(
        "/api/v1/session",
        json={"email": user["email"], "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert "autre site" in r.json()["error"]


# --- the HTML form -----------------------------------------------------------------------------


def _csrf(client):
    client.get("/login")
    return client.cookies.get("outreach_csrf")


def test_login_page_is_french_with_real_labels(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert '<html lang="fr">' in r.text
    assert '<label for="f-email">Adresse e-mail' in r.text
    assert '<label for="f-password">Mot de passe' in r.text


def test_login_form_signs_in_and_redirects_to_a_local_next(client, make_user):
    user = make_user("coordinator")
    token = _csrf(client)
    r = client.post(
        "/login",
        data={"email": user["email"], "password": PASSWORD, "csrf_token": token, "next": "/health"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/health"
    assert client.get("/api/v1/session").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_login_form_never_redirects_off_site(client, make_user, target):
    user = make_user("coordinator")
    token = _csrf(client)
    r = client.post("/login", data={"email": user["email"], "password": PASSWORD, "csrf_token": token, "next": target}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/") and not r.headers["location"].startswith("//")


def test_login_form_without_csrf_token_is_refused(client, make_user):
    user = make_user("coordinator")
    _csrf(client)
    r = client.post("/login", data={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 403
    assert "expiré" in r.text
    assert client.get("/api/v1/session").status_code == 401


def test_login_form_wrong_password_shows_the_error_and_keeps_the_email(client, make_user):
    user = make_user("coordinator")
    token = _csrf(client)
    r = client.post("/login", data={"email": user["email"], "password": "nope-nope", "csrf_token": token})
    assert r.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in r.text
    assert f'value="{user["email"]}"' in r.text


def test_login_form_escapes_hostile_input(client):
    token = _csrf(client)
    r = client.post("/login", data={"email": '"><script>alert(1)</script>', "password": "x", "csrf_token": token})
    assert r.status_code == 401
    assert "<script>alert(1)</script>" not in r.text


def test_logout_form_ends_the_session(client, make_user):
    user = make_user("field")
    client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD})
    token = client.cookies.get("outreach_csrf")
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/session").status_code == 401


def test_a_session_already_verified_still_expires_and_still_ends_at_sign_out(app, make_user, monkeypatch):
    """The session token's signature is verified once and remembered (Signer.loads(remember=True)):
    its age is still checked on every request, and the session row too."""
    from starlette.testclient import TestClient

    user = make_user("field")
    with TestClient(app) as c:
        assert c.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 200
        for _ in range(2):
            assert c.get("/api/v1/session").status_code == 200  # the second from memory
        copied = c.cookies.get(SESSION_COOKIE)
        assert c.delete("/api/v1/session").status_code in (200, 204)
    with TestClient(app) as other:
        other.cookies.set(SESSION_COOKIE, copied)
        assert other.get("/api/v1/session").status_code == 401
    with TestClient(app) as c:
        assert c.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 200
        assert c.get("/api/v1/session").status_code == 200
        import itsdangerous.timed

        real = itsdangerous.timed.time.time
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + app.state.settings.session_max_age + 10)
        assert c.get("/api/v1/session").status_code == 401


def test_remembered_tokens_are_only_ever_the_exact_strings_verified():
    from outreach.security import Signer

    signer, other = Signer("k" * 40), Signer("x" * 40)
    token = signer.dumps("session", {"uid": 1, "sid": "s"})
    assert signer.loads("session", token, max_age=60, remember=True) == {"uid": 1, "sid": "s"}
    value = signer.loads("session", token, max_age=60, remember=True)
    value["uid"] = 2  # a caller's change never reaches the next request
    assert signer.loads("session", token, max_age=60, remember=True) == {"uid": 1, "sid": "s"}
    assert signer.loads("csrf", token, remember=True) is None  # another purpose
    assert signer.loads("session", token[:-2] + ("AA" if not token.endswith("AA") else "BB"), remember=True) is None
    assert other.loads("session", token, remember=True) is None  # another key
    assert signer.loads("session", token, max_age=-1, remember=True) is None  # too old (and never from memory)
