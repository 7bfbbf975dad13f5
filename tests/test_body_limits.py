"""Request bodies are counted as they arrive, on every route, whatever Content-Length says.

A chunked body has no Content-Length: the server must count what it receives and answer
413 as soon as a route's limit is passed, not after writing gigabytes to a temporary file.
A body that trickles in is cut off after BODY_TIMEOUT seconds. Tested on a real server
(uvicorn) through raw sockets, since these are transport-level attacks."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from conftest import make_settings, start_live_server, stop_live_server


@pytest.fixture
def server(tmp_path):
    live = start_live_server(make_settings(tmp_path / "live", body_timeout=1))
    yield live
    stop_live_server(live)


def open_request(server, method: str, path: str, headers: dict[str, str]) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(head.encode() + b"\r\n")
    return sock


def status_of(sock: socket.socket, timeout: float = 5) -> int | None:
    """The status the server answered, or None if it answered nothing within the timeout."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except (socket.timeout, ConnectionResetError):
        return None
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def send_chunks(sock: socket.socket, total: int, chunk: int = 64 * 1024, prefix: bytes = b"") -> int:
    """Send ``prefix`` then ``total`` bytes as HTTP chunks, never the final empty chunk."""
    sent = 0
    try:
        if prefix:
            sock.sendall(f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n")
        while sent < total:
            sock.sendall(f"{chunk:x}\r\n".encode() + b"a" * chunk + b"\r\n")
            sent += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed: exactly what we want
    return sent


@pytest.mark.parametrize("method, path, ctype, size", [
    ("POST", "/login", "application/x-www-form-urlencoded", 2 * 1024 * 1024),
    ("POST", "/report", "multipart/form-data; boundary=xyz", 16 * 1024 * 1024),
    ("POST", "/api/v1/reports", "application/json", 4 * 1024 * 1024),
    ("PUT", "/api/v1/attachments/" + "0" * 64, "image/jpeg", 16 * 1024 * 1024),
    ("POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded", 2 * 1024 * 1024),
])
def test_a_chunked_body_over_the_routes_limit_gets_413_before_it_ends(server, method, path, ctype, size):
    sock = open_request(server, method, path, {"Content-Type": ctype, "Transfer-Encoding": "chunked"})
    with sock:
        prefix = (b'--xyz\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
                  b"Content-Type: image/jpeg\r\n\r\n") if "multipart" in ctype else b""
        send_chunks(sock, size, prefix=prefix)
        # The body never ended (no final chunk): only a server that counts can have answered.
        assert status_of(sock) == 413


def test_a_declared_length_over_the_limit_is_refused_without_reading(server):
    sock = open_request(server, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Content-Length": str(50 * 1024 * 1024)})
    with sock:
        assert status_of(sock) == 413


def test_a_body_that_trickles_in_is_cut_off(server):
    sock = open_request(server, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Content-Length": "1000"})
    with sock:
        sock.settimeout(0.5)
        answer = None
        for _ in range(40):  # up to ~20 s of one byte every half-second
            try:
                sock.sendall(b"a")
                answer = sock.recv(4096)
                break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        assert answer and answer.startswith(b"HTTP/1.1 408 ")


def test_a_small_chunked_form_still_works(server):
    """The guard counts; it does not refuse chunked bodies as such."""
    sock = open_request(server, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Transfer-Encoding": "chunked"})
    with sock:
        body = b"email=a%40example.org&password=x&csrf_token=x"
        sock.sendall(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        assert status_of(sock) == 403  # read whole, then refused for its CSRF token, as before
