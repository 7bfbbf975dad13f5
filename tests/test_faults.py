"""Faults survived, nothing lost: a full disk, a locked database, a read-only data directory.

Each answers 503 with Retry-After and a clear message (never a 500), writes nothing, logs a line;
once the condition ends, the same entries are stored exactly once. The disk really fills (a small
tmpfs, mounted when the tests run as root, as CI does); without root, SQLite's own page limit
makes SQLITE_FULL happen instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from outreach import db as dbmod
from outreach import users
from outreach.app import create_app
from tests.conftest import PASSWORD, make_settings
from tests.test_sync import encounter

ROOT = os.geteuid() == 0


def sign_in(app) -> TestClient:
    with app.state.store.write() as db:
        users.create_user(db, "worker@example.org", PASSWORD, "field", None)
    client = TestClient(app, base_url="http://testserver")
    assert client.post("/api/v1/session", json={"email": "worker@example.org", "password": PASSWORD}).status_code == 200
    return client


def sync(client, entries):
    return client.post("/api/v1/sync", json={"device_id": "phone-fault-01", "app_version": "1", "entries": entries})


def photo(seed: int) -> bytes:
    out = io.BytesIO()
    # Noise does not compress: a photo of realistic weight.
    Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3) if seed else b"\x80" * 360000).save(out, "PNG")
    return out.getvalue()


def stored(app, ids) -> int:
    marks = ",".join("?" * len(ids))
    return app.state.store.db().execute(f"select count(*) from encounters where id in ({marks})", list(ids)).fetchone()[0]


@contextlib.contextmanager
def small_disk(path: Path, size_mb: int):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the disk says ENOSPC; return it (delete it to free the space)."""
    filler = directory / "filler"
    # Unbuffered: a buffered file kept the chunk that did not fit and failed again on close,
    # whenever the free space was not a whole number of chunks.
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


@pytest.mark.skipif(not ROOT, reason="mounting a small tmpfs needs root (CI runs as root); see the simulated test below")
def test_disk_full_sync_and_photos_answer_503_then_store_exactly_once(tmp_path, caplog):
    with small_disk(tmp_path / "disk", 6) as disk:
        app = create_app(make_settings(disk / "data"))
        client = sign_in(app)
        entries = [encounter(note="x" * 400) for _ in range(40)]
        image = photo(1)
        sha = hashlib.sha256(image).hexdigest()
        filler = fill(disk)
        with caplog.at_level(logging.ERROR, logger="outreach.storage"):
            r = sync(client, entries)
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) > 0 and "disque" in r.json()["error"]
            up = client.put(f"/api/v1/attachments/{sha}", content=image, headers={"content-type": "image/png"})
            assert up.status_code == 503 and up.headers["Retry-After"]
        assert "storage unavailable (disk_full)" in caplog.text
        filler.unlink()
        assert stored(app, [e["id"] for e in entries]) == 0  # nothing half-written
        assert not list((disk / "data" / "uploads").rglob(".tmp-*"))
        r = sync(client, entries)
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"created"}
        assert sync(client, entries).json()["results"][0]["status"] == "unchanged"
        assert stored(app, [e["id"] for e in entries]) == 40
        assert client.put(f"/api/v1/attachments/{sha}", content=image, headers={"content-type": "image/png"}).status_code == 201
        assert app.state.store.db().execute("pragma integrity_check").fetchone()[0] == "ok"
        app.state.store.close()


def test_simulated_sqlite_full_answers_503_then_stores_once(tmp_path, monkeypatch):
    """Without a small filesystem: SQLite's page limit raises the same SQLITE_FULL."""
    app = create_app(make_settings(tmp_path / "data"))
    client = sign_in(app)
    entries = [encounter(note="y" * 400) for _ in range(200)]
    connect = dbmod.connect

    def capped(path, **kw):
        db = connect(path, **kw)
        pages = db.execute("pragma page_count").fetchone()[0]
        db.execute(f"pragma max_page_count = {pages + 2}")
        return db

    app.state.store.close()
    monkeypatch.setattr(dbmod, "connect", capped)
    r = sync(client, entries)
    assert r.status_code == 503 and r.json()["detail"] == {"reason": "disk_full"}
    monkeypatch.setattr(dbmod, "connect", connect)
    app.state.store.close()
    assert stored(app, [e["id"] for e in entries]) == 0
    assert sync(client, entries).status_code == 200
    assert stored(app, [e["id"] for e in entries]) == 200
    app.state.store.close()


def test_database_locked_by_another_process_is_a_clear_503(tmp_path, caplog):
    app = create_app(make_settings(tmp_path / "data", db_busy_timeout=1))
    client = sign_in(app)
    entries = [encounter()]
    # Another process (a backup tool, say) holds the write lock.
    holder = subprocess.Popen(
        ["python3", "-c", "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None);"
         " c.execute('begin exclusive'); print('locked', flush=True); time.sleep(30)", str(app.state.settings.db_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with caplog.at_level(logging.ERROR, logger="outreach.storage"):
            r = sync(client, entries)
        assert r.status_code == 503 and r.headers["Retry-After"] and "occupée" in r.json()["error"]
        assert "storage unavailable (database_locked)" in caplog.text
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["checks"]["database"]["write_lock"] is False
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert sync(client, entries).json()["results"][0]["status"] == "created"
    assert client.get("/health").status_code == 200
    app.state.store.close()


@contextlib.contextmanager
def read_only(data_dir: Path, mount_point: Path | None):
    if mount_point is not None:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount_point)], check=True)
        try:
            yield
        finally:
            subprocess.run(["mount", "-o", "remount,bind,rw", str(mount_point)], check=True)
    else:
        paths = [data_dir, *data_dir.iterdir()]
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def test_read_only_data_directory_is_a_clear_503_never_a_500(tmp_path, caplog):
    mount_point = None
    if ROOT:  # root ignores file modes: make the mount itself read-only (a bind mount of a tmpfs)
        real, mount_point = tmp_path / "real", tmp_path / "view"
        real.mkdir(), mount_point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(real)], check=True)
        subprocess.run(["mount", "--bind", str(real), str(mount_point)], check=True)
    try:
        data = (mount_point or tmp_path) / "data"
        app = create_app(make_settings(data))
        client = sign_in(app)
        entries = [encounter() for _ in range(3)]
        app.state.store.close()  # connections reopen on the next request, as after a remount
        with read_only(data, mount_point):
            with caplog.at_level(logging.ERROR, logger="outreach.storage"):
                r = sync(client, entries)
            assert r.status_code == 503 and r.headers["Retry-After"], r.text
            assert "storage unavailable (read_only)" in caplog.text
            assert client.get("/health").status_code == 503
        app.state.store.close()
        assert sync(client, entries).status_code == 200
        assert stored(app, [e["id"] for e in entries]) == 3
        app.state.store.close()
    finally:
        if mount_point is not None:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)
            subprocess.run(["umount", "-l", str(real)], check=False)
