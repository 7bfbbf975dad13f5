"""The real server as a separate process (``outreach serve``), to kill -9 it or run Litestream beside it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PASSWORD, free_port

BIN = Path(sys.executable).parent


class ServerProcess:
    def __init__(self, data_dir: Path, **env):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "OUTREACH_DATA_DIR": str(data_dir), "OUTREACH_SECRET_KEY": "k" * 48,
                    "OUTREACH_SYNC_RATE_LIMIT": "100000", "OUTREACH_UPLOAD_RATE_LIMIT": "100000", **env}
        self.proc: subprocess.Popen | None = None

    def create_user(self, email="worker@example.org", role="field") -> None:
        subprocess.run([str(BIN / "outreach"), "create-user", email, "--role", role], check=True,
                       env={**self.env, "OUTREACH_PASSWORD": PASSWORD}, capture_output=True)

    def start(self) -> "ServerProcess":
        self.proc = subprocess.Popen([str(BIN / "outreach"), "serve", "--port", str(self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/health")[0] in (200, 503):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def request(self, method, path, body: bytes | None = None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), r.getheader("set-cookie")
        finally:
            conn.close()

    def sign_in(self, email="worker@example.org") -> str:
        status, _body, cookie = self.request("POST", "/api/v1/session", json.dumps({"email": email, "password": PASSWORD}).encode(),
                                             {"content-type": "application/json"})
        assert status == 200
        return cookie.split(";")[0]

    def sync(self, cookie: str, entries: list[dict]):
        body = json.dumps({"device_id": "phone-crash-01", "app_version": "1", "entries": entries}).encode()
        status, data, _ = self.request("POST", "/api/v1/sync", body, {"content-type": "application/json", "cookie": cookie})
        return status, (json.loads(data) if status == 200 else None)
