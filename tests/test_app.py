"""The application shell: security headers, errors, languages, settings documentation, backups."""

import re
import sqlite3
import subprocess
import sys
import threading

import pytest

from outreach.settings import REPO_ROOT, SETTINGS, Settings


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/does-not-exist", "/api/v1/session"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_api_errors_are_json_and_pages_are_friendly_french(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]
    r = client.get("/nothing-here")
    assert r.status_code == 404 and "existe pas (ou plus)" in r.text


def test_english_on_request_and_by_choice(client):
    r = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert '<html lang="en">' in r.text and "Email address" in r.text
    client.get("/lang/en?next=/login")
    assert "Email address" in client.get("/login").text
    r = client.get("/lang/fr?next=https://evil.example", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_static_files_have_hashed_urls_and_long_cache(client):
    html = client.get("/login").text
    href = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', html).group(1)
    r = client.get(href)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert client.get("/static/../outreach/settings.py").status_code == 404


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in readme, f"{setting.env} is missing from README.md"
    documented = set(re.findall(r"`(OUTREACH_[A-Z_]+)`", readme))
    declared = {s.env for s in SETTINGS} | {"OUTREACH_PASSWORD", "OUTREACH_CHROMIUM"}
    assert documented <= declared, f"README documents unknown settings: {documented - declared}"


def test_settings_from_env_and_generated_secret_key_survives_restart(tmp_path):
    s = Settings.from_env({"OUTREACH_DATA_DIR": str(tmp_path), "OUTREACH_LOGIN_MAX_FAILURES": "3", "OUTREACH_HTTPS": "1"})
    assert s.login_max_failures == 3 and s.https is True and s.data_dir == tmp_path
    first = s.with_secret()
    assert len(first.secret_key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert s.with_secret().secret_key == first.secret_key
    with pytest.raises(SystemExit):
        Settings.from_env({"OUTREACH_LOGIN_WINDOW": "soon"})


def test_every_message_has_a_french_translation():
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    import i18n as i18n_tool

    missing = i18n_tool.missing("fr")
    assert not missing, "untranslated (run python tools/i18n.py add AREA):\n" + "\n".join(f"{w}: {k!r}" for k, w in missing.items())


def test_no_message_is_translated_two_ways():
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    import i18n as i18n_tool

    found = i18n_tool.conflicts("fr")
    assert not found, "one msgid, two translations (use one wording, or distinct msgids for distinct meanings):\n" + "\n".join(found)


def test_no_catalog_keeps_a_message_no_code_uses():
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    import i18n as i18n_tool

    found = i18n_tool.unused("fr")
    assert not found, "stale translations (delete them from the catalog):\n" + "\n".join(found)


def test_create_user_cli_hashes_the_password(tmp_path):
    env = {"OUTREACH_DATA_DIR": str(tmp_path), "OUTREACH_PASSWORD": "a-long-password-1", "PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "outreach", "create-user", "Worker@Example.org", "--role", "field"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    db = sqlite3.connect(tmp_path / "outreach.db")
    email, role, hashed = db.execute("select email, role, password_hash from users").fetchone()
    assert (email, role) == ("worker@example.org", "field")
    assert hashed.startswith("scrypt$") and "a-long-password-1" not in hashed
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "existe déjà" in r.stderr
    r = subprocess.run(cmd[:-1] + ["boss"], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2
    env.pop("OUTREACH_PASSWORD")
    r = subprocess.run(cmd[:4] + ["other@example.org", "--role", "field"], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "OUTREACH_PASSWORD" in r.stderr


def test_backup_while_writes_go_on_passes_integrity_check(app, store, tmp_path, make_user):
    from outreach.cli import main

    stop = threading.Event()
    first_write = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            with store.write() as db:
                db["audit_log"].insert({"at": "2026-11-30T00:00:00+00:00", "action": f"load-{i}"})
            first_write.set()
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    assert first_write.wait(10)
    try:
        target = tmp_path / "copy.db"
        import os

        os.environ["OUTREACH_DATA_DIR"] = str(app.state.settings.data_dir)
        try:
            assert main(["backup", str(target)]) == 0
        finally:
            del os.environ["OUTREACH_DATA_DIR"]
    finally:
        stop.set()
        t.join()
    copy = sqlite3.connect(target)
    assert copy.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert copy.execute("select count(*) from audit_log").fetchone()[0] > 0
    assert copy.execute("select count(*) from zones").fetchone()[0] == 6


def test_demo_seed_makes_usable_accounts_and_data_once(store):
    from outreach import demo, users

    with store.write() as db:
        first = demo.seed(db)
    with store.write() as db:
        again = demo.seed(db)
    assert first == again and {role for _, role, _ in first} == {"field", "coordinator", "admin"}
    db = store.db()
    for email, role, password in first:
        assert users.authenticate(db, email, password)["role"] == role
    assert db["encounters"].count > 0 and db["reports"].count == len(demo.DEMO_REPORTS)
    planned = db.execute("select count(*) from outings where status = 'planned'").fetchone()[0]
    assert planned == 4
    states = {r["status"] for r in db.query("select status from reports")}
    assert {"submitted", "accepted", "scheduled", "needs_info"} <= states


def test_the_server_settles_the_garbage_collector_once_per_process(client):
    import gc

    from outreach.app import settle_garbage_collector

    # Started (the client ran the lifespan): what existed then is frozen, young objects wait longer.
    assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == 5000
    frozen = gc.get_freeze_count()
    kept = [{"n": i} for i in range(1000)]  # new objects a second freeze would take too
    settle_garbage_collector()
    assert gc.get_freeze_count() == frozen and len(kept) == 1000
