"""The sign-in throttle: counted before the password is checked, and no lock-out of the real user.

Limits (see the README): per (email, client address) LOGIN_MAX_FAILURES per LOGIN_WINDOW; per
client address, all emails, LOGIN_ADDRESS_MAX_FAILURES; per email, all addresses, the slower
LOGIN_EMAIL_MAX_FAILURES per LOGIN_EMAIL_WINDOW."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from starlette.testclient import TestClient

from conftest import PASSWORD, make_settings, start_live_server, stop_live_server
from outreach.app import create_app


def sign_in(client, email, password):
    return client.post("/api/v1/session", json={"email": email, "password": password})


def test_sixty_parallel_wrong_passwords_check_at_most_the_limit(tmp_path):
    live = start_live_server(make_settings(tmp_path / "live"))
    try:
        user = live.make_user("field")
        statuses = []

        def attempt():
            request = urllib.request.Request(
                live.url + "/api/v1/session", method="POST", headers={"Content-Type": "application/json"},
                data=json.dumps({"email": user["email"], "password": "wrong-password"}).encode())
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    statuses.append(r.status)
            except urllib.error.HTTPError as e:
                statuses.append(e.code)

        threads = [threading.Thread(target=attempt) for _ in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count(401) <= live.settings.login_max_failures
        assert statuses.count(429) >= 60 - live.settings.login_max_failures
    finally:
        stop_live_server(live)


def client_from(app, address: str) -> TestClient:
    return TestClient(app, base_url="http://testserver", client=(address, 40000))


def test_wrong_passwords_from_other_addresses_do_not_lock_out_the_real_user(app, make_user, settings):
    user = make_user("coordinator")
    for n in range(5):
        attacker = client_from(app, f"203.0.113.{n}")
        for _ in range(settings.login_max_failures):
            assert sign_in(attacker, user["email"], "guess-guess").status_code == 401
        assert sign_in(attacker, user["email"], "guess-guess").status_code == 429
    assert sign_in(client_from(app, "198.51.100.7"), user["email"], PASSWORD).status_code == 200


def test_an_email_attacked_from_many_addresses_is_slowed_for_all(tmp_path, make_user):
    app = create_app(make_settings(tmp_path / "d", login_max_failures=3, login_email_max_failures=7))
    with app.state.store.write() as db:
        from outreach import users

        user = users.create_user(db, "target@example.org", PASSWORD, "field")
    codes = [sign_in(client_from(app, f"203.0.113.{n}"), user["email"], "guess-guess").status_code for n in range(10)]
    assert codes == [401] * 7 + [429] * 3
    r = sign_in(client_from(app, "198.51.100.7"), user["email"], PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    app.state.store.close()


def test_a_successful_sign_in_does_not_use_up_the_allowance(client, make_user, settings):
    user = make_user("field")
    for _ in range(settings.login_max_failures + 3):
        assert sign_in(client, user["email"], PASSWORD).status_code == 200
    assert sign_in(client, user["email"], "wrong-password").status_code == 401
