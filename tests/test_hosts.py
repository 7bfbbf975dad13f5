"""Links are never built from a Host header the site does not own: the Host is checked against
OUTREACH_ALLOWED_HOSTS (or the host of OUTREACH_BASE_URL; or local names when both are empty)."""

import uuid

import pytest
from starlette.testclient import TestClient

from conftest import make_settings
from outreach.app import create_app


def report_entry():
    return {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": "2026-11-30T10:00:00+01:00",
            "data": {"title": "Banc cassé", "category": "street_furniture", "address": "1 rue de la Paix"}}


@pytest.fixture
def make_app(tmp_path):
    apps = []

    def make(**overrides):
        app = create_app(make_settings(tmp_path / f"d{len(apps)}", **overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.store.close()


def test_a_foreign_host_header_is_refused_before_any_link_is_made(make_app):
    app = make_app(allowed_hosts="", base_url="")
    evil = TestClient(app, base_url="http://evil.example")
    r = evil.post("/api/v1/reports", json={"entries": [report_entry()]})
    assert r.status_code == 400 and "evil.example" not in r.text
    assert evil.get("/").status_code == 400


def test_local_names_work_when_nothing_is_configured(make_app):
    app = make_app(allowed_hosts="", base_url="")
    assert TestClient(app, base_url="http://127.0.0.1:8000").get("/").status_code == 200
    assert TestClient(app, base_url="http://localhost").get("/").status_code == 200


def test_allowed_hosts_and_the_base_urls_host_are_accepted(make_app):
    app = make_app(allowed_hosts="outreach.example.org, 192.168.1.20", base_url="")
    assert TestClient(app, base_url="http://192.168.1.20:8000").get("/").status_code == 200
    r = TestClient(app, base_url="https://outreach.example.org").post("/api/v1/reports", json={"entries": [report_entry()]})
    assert r.json()["results"][0]["tracking_url"].startswith("https://outreach.example.org/track/")
    app = make_app(allowed_hosts="", base_url="https://ville.example.fr")
    assert TestClient(app, base_url="https://ville.example.fr").get("/").status_code == 200
    assert TestClient(app, base_url="https://evil.example").get("/").status_code == 400
