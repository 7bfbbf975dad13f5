"""Anonymous photo uploads cannot exhaust the server's memory.

A PNG of 6300×6300 RGBA pixels compresses to ~160 KiB and decodes to ~160 MB; decoding it
(and the copies made while flattening it) once cost the server ~600 MB, six at once 4 GB.
The server now refuses such a size from the header alone, and decodes what it accepts one
or two at a time. Measured on a real server process (its own peak resident memory)."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import urllib.error
import urllib.request

import pytest

SIDE = 6300


def big_rgba_png(seed: int) -> bytes:
    """A 6300×6300 RGBA PNG of one colour per seed, built row by row (never held decoded here)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes([seed % 256, 80, 40, 255]) * SIDE
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(SIDE)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_process(tmp_path):
    """`outreach serve` in a process of its own, so that its memory is its own."""
    port = free_port()
    env = dict(os.environ, OUTREACH_DATA_DIR=str(tmp_path / "data"), OUTREACH_SECRET_KEY="k" * 40)
    proc = subprocess.Popen([sys.executable, "-m", "outreach", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the server did not start")
        time.sleep(0.1)
    yield proc, url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_six_parallel_huge_png_uploads_do_not_raise_peak_memory_by_150_mb(server_process):
    proc, url = server_process
    bodies = [big_rgba_png(seed) for seed in range(6)]
    assert all(len(b) < 400 * 1024 for b in bodies)  # small on the wire, ~160 MB each decoded
    before = peak_rss_mb(proc.pid)
    statuses = []

    def upload(body: bytes) -> None:
        name = hashlib.sha256(body).hexdigest()
        request = urllib.request.Request(f"{url}/api/v1/attachments/{name}", data=body, method="PUT",
                                         headers={"Content-Type": "image/png"})
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                statuses.append(r.status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)

    threads = [threading.Thread(target=upload, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    growth = peak_rss_mb(proc.pid) - before
    assert growth < 150, f"peak memory grew by {growth:.0f} MB"
    assert statuses == [415] * 6  # refused from the header: too many pixels for a photo
