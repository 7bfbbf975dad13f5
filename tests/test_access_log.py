"""The access log never keeps a secret link: tracking, invitation and reset tokens are redacted."""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request

import uvicorn

from conftest import free_port, make_settings
from outreach.accesslog import redact_path
from outreach.app import create_app

SECRETS = ["/track/eyJyIjoiYWJjIn0.ZxY.sig-abc123/info", "/track/tok.en.sig/photos/" + "a" * 64,
           "/invite/InViTe.ToKeN.sig", "/reset/ReSeT.ToKeN.sig?x=1"]


def test_token_segments_are_replaced():
    assert redact_path("/track/abc.def.ghi/photos/0a?size=thumb") == "/track/[redacted]/photos/0a?size=thumb"
    assert redact_path("/invite/abc") == "/invite/[redacted]"
    assert redact_path("/reset/abc?next=/") == "/reset/[redacted]?next=/"
    assert redact_path("/coordinator/reports/abc") == "/coordinator/reports/abc"


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_uvicorns_access_log_shows_no_token(tmp_path):
    app = create_app(make_settings(tmp_path / "d"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=True,
                                           lifespan="off"))
    collect = Collect()
    access = logging.getLogger("uvicorn.access")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        access.addHandler(collect)
        for path in SECRETS:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
            except urllib.error.HTTPError:
                pass
        deadline = time.monotonic() + 5
        while len(collect.lines) < len(SECRETS) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        access.removeHandler(collect)
        server.should_exit = True
        thread.join(timeout=10)
        app.state.store.close()
    assert len(collect.lines) == len(SECRETS)
    log = "\n".join(collect.lines)
    for secret in ("eyJyIjoiYWJjIn0", "tok.en.sig", "InViTe", "ReSeT"):
        assert secret not in log
    assert "/track/[redacted]/info" in log
