"""Sync ingest through a real uvicorn server on loopback, against the stack's ceiling.

    PYTHONPATH=. /tmp/venv/bin/python bench/bench_sync.py [--devices 4] [--batches 25] [--size 100]

Several devices (one client thread and one account each) post batches of new encounters, then
replay the very same batches (as phones do when an answer is lost). The same load then goes to a
minimal Starlette + sqlite3 ``INSERT OR IGNORE`` endpoint: no validation, no history, the
ceiling of the stack on this machine. Prints entries per second, p50/p99 latency per request, the
server's CPU time per entry (all threads; the server is CPU-bound, so this says where a gap comes
from) and the server's peak memory (VmHWM). Figures, not assertions: run by hand, quote in the README.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-12345"
TOOLS = ["participatory_budget", "petition", "citizen_council", "votation", "agora", "open_worksite"]


# --- the two servers (run in their own process so that their memory is their own) --------------


def serve_outreach(data_dir: str, port: int, devices: int) -> None:
    import uvicorn

    from outreach import users
    from outreach.app import create_app
    from outreach.settings import Settings

    settings = Settings(data_dir=Path(data_dir), secret_key="bench-" + "k" * 40, sync_rate_limit=1_000_000)
    app = create_app(settings)
    with app.state.store.write() as db:
        for i in range(devices):
            users.create_user(db, f"device{i}@bench.example", PASSWORD, "field")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def ceiling_app(db_path: str):
    """The least a sync endpoint can do: parse JSON, INSERT OR IGNORE, answer one result per entry."""
    import sqlite3

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    local = threading.local()
    lock = threading.Lock()

    def conn():
        c = getattr(local, "c", None)
        if c is None:
            c = local.c = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
            c.execute("pragma journal_mode=wal")
            c.execute("pragma synchronous=normal")
            c.execute("create table if not exists entries (id text, version int, data text, primary key (id, version))")
        return c

    def store(entries):
        c = conn()
        with lock:
            c.execute("begin")
            c.executemany("insert or ignore into entries (id, version, data) values (?, ?, ?)",
                          [(e["id"], e["version"], json.dumps(e["data"])) for e in entries])
            c.execute("commit")
        return [{"id": e["id"], "status": "created"} for e in entries]

    async def sync(request: Request):
        from starlette.concurrency import run_in_threadpool

        body = await request.json()
        return JSONResponse({"results": await run_in_threadpool(store, body["entries"])})

    async def session(request: Request):
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/api/v1/sync", sync, methods=["POST"]),
                             Route("/api/v1/session", session, methods=["POST"])])


def serve_ceiling(data_dir: str, port: int) -> None:
    import uvicorn

    uvicorn.run(ceiling_app(str(Path(data_dir) / "ceiling.db")), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


# --- the load ---------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uuid7() -> str:
    """A time-ordered random UUID, as the phones make them (static/js/outbox.js newId)."""
    ms = time.time_ns() // 1_000_000
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))


def make_batches(devices: int, batches: int, size: int) -> list[list[list[dict]]]:
    now = datetime.now(timezone.utc)
    out = []
    for d in range(devices):
        device = []
        for b in range(batches):
            batch = []
            for i in range(size):
                n = d * 1_000_003 + b * 1009 + i
                batch.append({
                    "id": uuid7(), "kind": "encounter", "version": 1,
                    "created_at": (now - timedelta(minutes=n % 600)).isoformat(timespec="seconds"),
                    "data": {
                        "occurred_at": (now - timedelta(minutes=n % 600)).isoformat(timespec="seconds"),
                        "outing_id": None, "place_type": ["street", "market", "school_gate"][n % 3],
                        "zone": f"secteur-{1 + n % 6}", "location": {"lat": 45.18 + (n % 50) / 1000, "lon": 5.72, "accuracy_m": 20},
                        "people_count": 1 + n % 4, "outcome": ["conversation", "brief", "flyer_only"][n % 3],
                        "tools": TOOLS[: n % 4], "interest": "curious", "note": "", "follow_up": None,
                    },
                })
            device.append(batch)
        out.append(device)
    return out


def wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def sign_in(port: int, i: int) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"email": f"device{i}@bench.example", "password": PASSWORD})
    c.request("POST", "/api/v1/session", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    cookie = r.getheader("set-cookie") or ""
    return "; ".join(part.split(";")[0] for part in cookie.split(", ") if "=" in part.split(";")[0])


def run_round(port: int, cookies: list[str], plan: list[list[list[dict]]]) -> tuple[float, list[float], dict]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def device(i: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Content-Type": "application/json", "Cookie": cookies[i]}
        for b, batch in enumerate(plan[i]):
            body = json.dumps({"device_id": f"bench-device-{i:04d}", "app_version": "bench", "entries": batch})
            start = time.perf_counter()
            c.request("POST", "/api/v1/sync", body, headers)
            r = c.getresponse()
            answer = r.read()
            elapsed = time.perf_counter() - start
            if r.status != 200:
                raise SystemExit(f"device {i}: HTTP {r.status}: {answer[:300]!r}")
            counts: dict[str, int] = {}
            for result in json.loads(answer)["results"]:
                counts[result["status"]] = counts.get(result["status"], 0) + 1
            with lock:
                latencies.append(elapsed)
                for k, v in counts.items():
                    statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=device, args=(i,)) for i in range(len(plan))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, statuses


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench(kind: str, args) -> dict:
    data_dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, f"--serve-{kind}", data_dir, str(port), str(args.devices)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        wait_up(port)
        cookies = [sign_in(port, i) for i in range(args.devices)]
        plan = make_batches(args.devices, args.batches, args.size)
        total = args.devices * args.batches * args.size
        out = {}
        for label in ("insert", "replay"):
            cpu = cpu_seconds(server.pid)
            seconds, lat, statuses = run_round(port, cookies, plan)
            cpu = cpu_seconds(server.pid) - cpu
            lat.sort()
            out[label] = {
                "entries_per_s": total / seconds,
                "p50_ms": statistics.median(lat) * 1000,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
                "cpu_us": cpu / total * 1e6,
                "statuses": statuses,
            }
        out["peak_rss_mb"] = peak_rss_mb(server.pid)
        return out
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve-outreach":
        return serve_outreach(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve-ceiling":
        return serve_ceiling(sys.argv[2], int(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each server, alternated; the best is kept")
    args = parser.parse_args()
    total = args.devices * args.batches * args.size
    print(f"{args.devices} devices x {args.batches} batches x {args.size} encounters = {total} entries, then replayed; "
          f"best of {args.repeat} alternated runs (other work on the machine only ever slows a run down)")
    results: dict[str, dict] = {}
    for _ in range(args.repeat):
        for kind in ("outreach", "ceiling"):
            run = bench(kind, args)
            best = results.setdefault(kind, run)
            for label in ("insert", "replay"):
                if run[label]["entries_per_s"] > best[label]["entries_per_s"]:
                    best[label] = run[label]
            best["peak_rss_mb"] = max(best["peak_rss_mb"], run["peak_rss_mb"])
    for kind, r in results.items():
        for label in ("insert", "replay"):
            x = r[label]
            print(f"{kind:9} {label:7} {x['entries_per_s']:9.0f} entries/s   p50 {x['p50_ms']:7.1f} ms   "
                  f"p99 {x['p99_ms']:7.1f} ms   server CPU {x['cpu_us']:5.1f} µs/entry   {x['statuses']}")
        print(f"{kind:9} peak server memory (VmHWM) {r['peak_rss_mb']:.0f} MB")
    ratio = results["outreach"]["insert"]["entries_per_s"] / results["ceiling"]["insert"]["entries_per_s"]
    replay = results["outreach"]["replay"]["entries_per_s"] / results["outreach"]["insert"]["entries_per_s"]
    print(f"outreach/ceiling (inserts, full validation): {ratio:.2f}  (target >= 0.6)")
    print(f"outreach replays/inserts: {replay:.2f}  (target >= 1.0)")


if __name__ == "__main__":
    main()
