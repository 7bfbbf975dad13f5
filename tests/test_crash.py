"""kill -9 during a burst of syncs and during photo uploads: after a restart every acknowledged
entry and photo is there once, the database passes its integrity check, no temporary file is left."""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import sqlite3
import threading
import time

from PIL import Image

from tests.server_process import ServerProcess
from tests.test_sync import encounter


def acknowledged_ids(answer) -> list[str]:
    return [r["id"] for r in answer["results"] if r["status"] in ("created", "unchanged", "updated")]


def test_kill_9_during_a_sync_burst_loses_no_acknowledged_entry(tmp_path):
    server = ServerProcess(tmp_path / "data")
    server.create_user()
    server.start()
    cookie = server.sign_in()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def phone():
        while not stop.is_set():
            try:
                status, answer = server.sync(cookie, [encounter() for _ in range(20)])
            except (OSError, http.client.HTTPException):
                return  # the server died under us: these entries stay in the phone's outbox
            if status == 200:
                with lock:
                    acked.extend(acknowledged_ids(answer))

    phones = [threading.Thread(target=phone) for _ in range(4)]
    for t in phones:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill9()
    stop.set()
    for t in phones:
        t.join()
    assert len(acked) >= 400
    server.start()  # recovery: SQLite replays or discards the WAL
    server.stop()
    db = sqlite3.connect(tmp_path / "data" / "outreach.db")
    try:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        found = dict(db.execute(f"select id, count(*) from encounters where id in ({','.join('?' * len(acked))})"
                                " group by id", acked).fetchall())
    finally:
        db.close()
    assert set(found) == set(acked) and set(found.values()) == {1}


def test_kill_9_during_photo_uploads_leaves_every_acknowledged_photo_and_no_temp_file(tmp_path):
    server = ServerProcess(tmp_path / "data")
    server.start()
    acked: list[str] = []
    stop = threading.Event()

    def uploads():
        while not stop.is_set():
            out = io.BytesIO()
            Image.frombytes("RGB", (900, 700), os.urandom(900 * 700 * 3)).save(out, "PNG")
            data = out.getvalue()
            sha = hashlib.sha256(data).hexdigest()
            try:
                status, _, _ = server.request("PUT", f"/api/v1/attachments/{sha}", data, {"content-type": "image/png"})
            except (OSError, http.client.HTTPException):
                return
            if status == 201:
                acked.append(sha)

    worker = threading.Thread(target=uploads)
    worker.start()
    deadline = time.monotonic() + 60
    while len(acked) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # somewhere inside the next upload
    server.kill9()
    stop.set()
    worker.join()
    # What a kill during a write leaves behind, at the worst moment:
    (tmp_path / "data" / "uploads" / "ab").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "uploads" / "ab" / ".tmp-killed").write_bytes(b"half a photo")
    server.start()
    server.stop()
    uploads_dir = tmp_path / "data" / "uploads"
    assert not list(uploads_dir.rglob(".tmp-*"))
    db = sqlite3.connect(tmp_path / "data" / "outreach.db")
    try:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        rows = dict(db.execute("select sha256, path from attachments").fetchall())
    finally:
        db.close()
    assert set(acked) <= set(rows)
    for sha in acked:
        assert (uploads_dir / rows[sha]).is_file()
