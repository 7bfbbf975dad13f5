"""Fixtures named for what they build. Each test gets its own temporary data directory."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils
from starlette.testclient import TestClient

from outreach import migrations, refdata, users
from outreach.app import create_app
from outreach.db import connect
from outreach.settings import Settings

PASSWORD = "secret-pass-123"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
def fresh_db(tmp_path) -> sqlite_utils.Database:
    """A migrated database with the default reference data, on its own file."""
    db = connect(tmp_path / "test.db")
    migrations.apply(db)
    refdata.seed(db)
    yield db
    db.close()


def make_settings(data_dir: Path, **overrides) -> Settings:
    values = dict(data_dir=data_dir, secret_key="test-secret-key-" + "x" * 32, allowed_hosts="testserver,127.0.0.1,localhost")
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.state.store.close()


@pytest.fixture
def store(app):
    return app.state.store


@pytest.fixture
def client(app) -> TestClient:
    """An anonymous browser-like client (same-origin requests)."""
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def make_user(store):
    """make_user(role, email=None, password=PASSWORD) -> the new user's row."""
    counter = iter(range(1, 10_000))

    def make(role: str, email: str | None = None, password: str = PASSWORD, name: str | None = None) -> dict:
        email = email or f"{role}{next(counter)}@example.org"
        with store.write() as db:
            return users.create_user(db, email, password, role, name)

    return make


def signed_in_client(app, user: dict, password: str = PASSWORD) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    c.__enter__()
    r = c.post("/api/v1/session", json={"email": user["email"], "password": password})
    assert r.status_code == 200, r.text
    c.user = user
    return c


@pytest.fixture
def field_client(app, make_user):
    c = signed_in_client(app, make_user("field"))
    yield c
    c.__exit__(None, None, None)


@pytest.fixture
def coordinator_client(app, make_user):
    c = signed_in_client(app, make_user("coordinator"))
    yield c
    c.__exit__(None, None, None)


@pytest.fixture
def admin_client(app, make_user):
    c = signed_in_client(app, make_user("admin"))
    yield c
    c.__exit__(None, None, None)


# --- live server and browser -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: object
    settings: Settings
    server: object
    thread: threading.Thread

    @property
    def store(self):
        return self.app.state.store

    def make_user(self, role: str, email: str | None = None, password: str = PASSWORD) -> dict:
        email = email or f"{role}-{time.monotonic_ns()}@example.org"
        with self.store.write() as db:
            return users.create_user(db, email, password, role)


def start_live_server(settings: Settings) -> LiveServer:
    import uvicorn

    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", app, settings, server, thread)


def stop_live_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path):
    """A real uvicorn server on a free port, with its own data directory."""
    live = start_live_server(make_settings(tmp_path / "live"))
    yield live
    stop_live_server(live)


def find_chromium() -> str | None:
    """A Chromium to drive: OUTREACH_CHROMIUM, the Debian package, or one Playwright has."""
    for candidate in (os.environ.get("OUTREACH_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
            if path and os.path.exists(path):
                return path
    except Exception:
        pass
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session. In CI a missing browser fails, never skips."""
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("No Chromium found: browser tests must run in CI (install the Debian package 'chromium').")
        pytest.skip("no Chromium on this machine (run ./test, which installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def browser_context(browser):
    """A fresh phone-sized browser profile (its own cookies, storage and service workers)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    p = browser_context.new_page()
    yield p
    p.close()


@pytest.fixture
def login():
    """login(page, live_server, role_or_user) signs in through the HTML form; returns the user."""

    def do(page, live: LiveServer, who="field", password: str = PASSWORD) -> dict:
        user = live.make_user(who) if isinstance(who, str) else who
        page.goto(live.url + "/login")
        page.get_by_label("Adresse e-mail").fill(user["email"])
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        return user

    return do


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


@pytest.fixture
def assert_no_serious_axe_violations():
    def check(page):
        bad = axe_violations(page)
        assert not bad, "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in bad
        )

    return check
