"""The CSRF cookie is the server's, signed and bound to the session: a value chosen by someone
else (a sibling site can set cookies for the domain) opens no form."""

from starlette.testclient import TestClient

from outreach.web import CSRF_COOKIE


def toss(client, value):
    """Replace the browser's CSRF cookie, as a sibling site could."""
    client.cookies.set(CSRF_COOKIE, value, domain="testserver.local")


def search(client, token):
    return client.post("/coordinator/privacy", data={"csrf_token": token, "identifier": "a@example.org"})


def test_a_client_chosen_csrf_cookie_is_refused(coordinator_client):
    toss(coordinator_client, "c" * 32)
    assert search(coordinator_client, "c" * 32).status_code == 403


def test_another_browsers_signed_token_is_refused(app, coordinator_client):
    attacker = TestClient(app, base_url="http://testserver")
    attacker.get("/login")
    tossed = attacker.cookies.get(CSRF_COOKIE)
    assert tossed
    toss(coordinator_client, tossed)
    assert search(coordinator_client, tossed).status_code == 403


def test_the_servers_own_token_works_right_after_sign_in(coordinator_client):
    # The sign-in answer already carries the session's token: no page load is needed first.
    token = coordinator_client.cookies.get(CSRF_COOKIE)
    assert search(coordinator_client, token).status_code == 200
    coordinator_client.get("/coordinator/privacy")
    assert search(coordinator_client, coordinator_client.cookies.get(CSRF_COOKIE)).status_code == 200
