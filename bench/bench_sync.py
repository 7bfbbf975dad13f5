"""Sync ingest through a real uvicorn server on loopback, against the stack's ceiling.

    PYTHONPATH=. .venv/bin/python bench/bench_sync.py [--entries 8000] [--size 100] [--repeat 3]

Devices (one client thread, one connection and one account each) post batches of new
encounters, then replay the very same batches (as phones do when an answer is lost): with
UUIDv7 ids (time-ordered, what the phones make) and UUIDv4 ids (random, what a third-party
client sends), over 1 and 8 concurrent connections. The same load then goes to a minimal
Starlette + uvicorn + sqlite3 ``INSERT OR IGNORE`` endpoint: no validation, no history, the
ceiling of the stack on this machine. Both servers run in the same run, alternated, best of
``--repeat``. Prints entries per second, p50/p99 latency per request, the server's CPU time
per entry (all threads; the server is CPU-bound, so this says where a gap comes from) and the
server's peak memory (VmHWM).

Then an end-of-day burst: 200 signed-in workers each send one batch of 50 entries, at random
moments within ten seconds; checks that every entry is stored exactly once and that no
answer is a 5xx, and prints p50/p99 per request. Figures, not assertions: run by hand, quote
in the README, with ``uptime``'s load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
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
SECRET = "bench-" + "k" * 40
TOOLS = ["participatory_budget", "petition", "citizen_council", "votation", "agora", "open_worksite"]
SCENARIOS = [("v7", 1), ("v7", 8), ("v4", 1), ("v4", 8)]  # (ids, concurrent connections)
BURST_WORKERS, BURST_SIZE, BURST_WINDOW = 200, 50, 10.0


# --- the two servers (run in their own process so that their memory is their own) --------------


def serve_outreach(data_dir: str, port: int, devices: int) -> None:
    import uvicorn

    from outreach import users
    from outreach.app import create_app
    from outreach.settings import Settings

    settings = Settings(data_dir=Path(data_dir), secret_key=SECRET, sync_rate_limit=1_000_000)
    app = create_app(settings)
    with app.state.store.write() as db:
        # One real account, then its password hash copied: scrypt 200 times is not the point here.
        first = users.create_user(db, "device0@bench.example", PASSWORD, "field")
        for i in range(1, devices):
            db["users"].insert(dict({k: v for k, v in first.items() if k != "id"},
                                    email=f"device{i}@bench.example", display_name=f"device{i}"))
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
            # Under the writers' lock: a new thread's connection setting WAL mode while another
            # writes was once refused at once ("database is locked"), failing a round.
            with lock:
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


def encounter(n: int, entry_id: str, now: datetime, when: datetime | None = None) -> dict:
    when = (when or now - timedelta(minutes=n % 600)).isoformat(timespec="seconds")
    return {
        "id": entry_id, "kind": "encounter", "version": 1, "created_at": when,
        "data": {
            "occurred_at": when, "outing_id": None, "place_type": ["street", "market", "school_gate"][n % 3],
            "zone": f"secteur-{1 + n % 6}", "location": {"lat": 45.18 + (n % 50) / 1000, "lon": 5.72, "accuracy_m": 20},
            "people_count": 1 + n % 4, "outcome": ["conversation", "brief", "flyer_only"][n % 3],
            "tools": TOOLS[: n % 4], "interest": "curious", "note": "", "follow_up": None,
        },
    }


# When the encounters happened. ``spread`` (the default, as the issue measured): each one at one of
# the last 600 minutes, so that every batch touches a sixth of each time index, however large:
# ten hours holding every encounter of the run, a city's year of work in a day. ``ordered``: the
# devices work side by side and each batch holds the next stretch of their day (2 s apart), as a
# database with a history sees it: a batch lands near the end of each time index.
TIMES = "spread"
_clock = [0]


def make_batches(devices: int, batches: int, size: int, ids: str) -> list[list[list[dict]]]:
    """Each device's batches of new encounters; ``ids``: ``v7`` (time-ordered) or ``v4`` (random)."""
    now = datetime.now(timezone.utc)
    new_id = uuid7 if ids == "v7" else (lambda: str(uuid.uuid4()))
    start = now - timedelta(days=20)

    def when(b: int, i: int):
        return None if TIMES == "spread" else start + timedelta(seconds=2 * (_clock[0] + b * size + i))

    made = [[[encounter(d * 1_000_003 + b * 1009 + i, new_id(), now, when(b, i)) for i in range(size)]
             for b in range(batches)] for d in range(devices)]
    _clock[0] += batches * size
    return made


def wait_up(port: int) -> None:
    deadline = time.monotonic() + 60
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


def session_cookies(db_path: Path, user_ids: list[int]) -> list[str]:
    """Signed-in workers' session cookies: a server-side session each, signed with the bench
    server's key (200 sign-ins would each cost a deliberate 50 ms of scrypt; the sync requests
    are what is measured)."""
    from outreach import users
    from outreach.db import connect
    from outreach.security import Signer
    from outreach.web import SESSION_COOKIE

    db = connect(db_path)
    try:
        sids = [users.start_session(db, user_id, 3600) for user_id in user_ids]
    finally:
        db.close()
    signer = Signer(SECRET)
    return [f"{SESSION_COOKIE}={signer.dumps('session', {'uid': u, 'epoch': 0, 'sid': sid})}"
            for u, sid in zip(user_ids, sids)]


def post(c: http.client.HTTPConnection, cookie: str, device: str, batch: list[dict]) -> tuple[int, bytes, float]:
    body = json.dumps({"device_id": device, "app_version": "bench", "entries": batch})
    start = time.perf_counter()
    c.request("POST", "/api/v1/sync", body, {"Content-Type": "application/json", "Cookie": cookie})
    r = c.getresponse()
    answer = r.read()
    return r.status, answer, time.perf_counter() - start


def run_round(port: int, cookies: list[str], plan: list[list[list[dict]]]) -> tuple[float, list[float], dict]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def device(i: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port)
        for batch in plan[i]:
            status, answer, elapsed = post(c, cookies[i], f"bench-device-{i:04d}", batch)
            if status != 200:  # this device stops; the round is left out (bench: "complete")
                print(f"device {i}: HTTP {status}: {answer[:300]!r}", file=sys.stderr)
                return
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


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def start_server(kind: str, users: int) -> tuple[subprocess.Popen, int, str]:
    data_dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, f"--serve-{kind}", data_dir, str(port), str(users)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    wait_up(port)
    return server, port, data_dir


def measure(server: subprocess.Popen, port: int, cookies: list[str], plan: list) -> dict:
    """One scenario's inserts then their replays against one server."""
    total = sum(len(batch) for device in plan for batch in device)
    out = {}
    for label in ("insert", "replay"):
        cpu = cpu_seconds(server.pid)
        seconds, lat, statuses = run_round(port, cookies, plan)
        cpu = cpu_seconds(server.pid) - cpu
        out[label] = {
            "entries_per_s": total / seconds,
            "complete": sum(statuses.values()) == total,  # a device that got an error stopped early
            "p50_ms": statistics.median(lat) * 1000,
            "p99_ms": percentile(lat, 0.99) * 1000,
            "cpu_us": cpu / total * 1e6,
            "statuses": statuses,
        }
    return out


def bench(args) -> dict:
    """Every scenario on a fresh pair of servers, both alive and measured in turn (seconds apart,
    under the same load on a shared machine); the best of ``--repeat`` rounds of each."""
    results: dict = {"outreach": {"peak_rss_mb": 0.0}, "ceiling": {"peak_rss_mb": 0.0}}
    for ids, conns in args.scenarios:
        servers = {kind: start_server(kind, 8) for kind in ("outreach", "ceiling")}
        try:
            cookies = {kind: [sign_in(port, i) for i in range(conns)] for kind, (_, port, _) in servers.items()}
            batches = max(1, args.entries // (args.size * conns))
            for _ in range(args.repeat):
                for kind, (server, port, _) in servers.items():
                    run = measure(server, port, cookies[kind], make_batches(conns, batches, args.size, ids))
                    for label, x in run.items():
                        if not x["complete"]:  # never the best: it stopped early, so it looks fast
                            results[kind]["failed_runs"] = results[kind].get("failed_runs", 0) + 1
                            continue
                        best = results[kind].get((ids, conns, label))
                        if best is None or x["entries_per_s"] > best["entries_per_s"]:
                            results[kind][(ids, conns, label)] = x
            for kind, (server, _, _) in servers.items():
                results[kind]["peak_rss_mb"] = max(results[kind]["peak_rss_mb"], peak_rss_mb(server.pid))
        finally:
            for server, _, _ in servers.values():
                server.terminate()
                server.wait(timeout=10)
    return results


def burst(seed: int = 7) -> dict:
    """200 workers, 50 entries each, at random moments within ten seconds; then count what is stored."""
    server, port, data_dir = start_server("outreach", BURST_WORKERS)
    try:
        rng = random.Random(seed)
        now = datetime.now(timezone.utc)
        plans = [[encounter(w * 1009 + i, uuid7(), now) for i in range(BURST_SIZE)] for w in range(BURST_WORKERS)]
        with sqlite3.connect(str(Path(data_dir) / "outreach.db")) as db:
            ids = [r[0] for r in db.execute("select id from users where email like 'device%@bench.example' order by id")]
        cookies = session_cookies(Path(data_dir) / "outreach.db", ids)
        offsets = sorted(rng.uniform(0, BURST_WINDOW) for _ in range(BURST_WORKERS))
        latencies: list[float] = []
        codes: dict[int, int] = {}
        lock = threading.Lock()
        go = threading.Event()
        start = [0.0]

        def worker(w: int) -> None:
            go.wait()
            delay = start[0] + offsets[w] - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, _, elapsed = post(c, cookies[w], f"burst-device-{w:04d}", plans[w])
            except OSError:
                status, elapsed = 0, float("nan")
            with lock:
                codes[status] = codes.get(status, 0) + 1
                latencies.append(elapsed)

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(BURST_WORKERS)]
        for t in threads:
            t.start()
        cpu = cpu_seconds(server.pid)
        start[0] = time.perf_counter()
        go.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start[0]
        cpu = cpu_seconds(server.pid) - cpu
        rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    db = sqlite3.connect(str(Path(data_dir) / "outreach.db"))
    sent = [e["id"] for plan in plans for e in plan]
    versions = db.execute("select count(*), count(distinct entry_id) from entry_versions").fetchone()
    encounters = db.execute("select count(*) from encounters").fetchone()[0]
    missing = len(set(sent) - {r[0] for r in db.execute("select id from encounters")})
    db.close()
    ok = [x for x in latencies if x == x]
    return {"sent": len(sent), "versions": versions, "encounters": encounters, "missing": missing, "codes": codes,
            "p50_ms": statistics.median(ok) * 1000, "p99_ms": percentile(ok, 0.99) * 1000,
            "max_ms": max(ok) * 1000, "wall_s": wall, "cpu_us": cpu / len(sent) * 1e6, "peak_rss_mb": rss}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve-outreach":
        return serve_outreach(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve-ceiling":
        return serve_ceiling(sys.argv[2], int(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=8000, help="new entries per scenario (then replayed)")
    parser.add_argument("--size", type=int, default=100, help="entries per request")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each server, alternated; the best is kept")
    parser.add_argument("--no-burst", action="store_true", help="skip the end-of-day burst")
    parser.add_argument("--times", choices=["spread", "ordered"], default="spread",
                        help="when the encounters happened (see TIMES); the targets are read with spread")
    parser.add_argument("--scenarios", default=",".join(f"{i}:{c}" for i, c in SCENARIOS),
                        help="ids:connections pairs, e.g. v4:8,v7:1 (default: all four)")
    args = parser.parse_args()
    args.scenarios = [(pair.split(":")[0], int(pair.split(":")[1])) for pair in args.scenarios.split(",")]
    global TIMES
    TIMES = args.times
    print(f"{args.entries} new encounters per scenario ({TIMES} in time) in batches of {args.size}, then replayed; best of {args.repeat} "
          f"runs of each server, alternated (other work on the machine only ever slows a run down); load average {load_average()}")
    results = bench(args)
    print(f"\n| ids | conns | round | server | entries/s | p50 ms | p99 ms | CPU µs/entry | ratio | statuses |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ids, conns in args.scenarios:
        for label in ("insert", "replay"):
            ceiling = results["ceiling"][(ids, conns, label)]["entries_per_s"]
            for kind in ("outreach", "ceiling"):
                x = results[kind][(ids, conns, label)]
                ratio = f"{x['entries_per_s'] / ceiling:.2f}" if kind == "outreach" else ""
                print(f"| UUID{ids} | {conns} | {label} | {kind} | {x['entries_per_s']:.0f} | {x['p50_ms']:.1f} | "
                      f"{x['p99_ms']:.1f} | {x['cpu_us']:.0f} | {ratio} | {x['statuses']} |")
    for kind in ("outreach", "ceiling"):
        print(f"{kind}: peak server memory (VmHWM) {results[kind]['peak_rss_mb']:.0f} MB")
        if results[kind].get("failed_runs"):
            print(f"{kind}: {results[kind]['failed_runs']} round(s) left out: a request failed (its error is above)")
    o, c = results["outreach"], results["ceiling"]
    for ids, conns in args.scenarios:
        ratio = o[(ids, conns, "insert")]["entries_per_s"] / c[(ids, conns, "insert")]["entries_per_s"]
        replay = o[(ids, conns, "replay")]["entries_per_s"] / o[(ids, conns, "insert")]["entries_per_s"]
        by_cpu = c[(ids, conns, "insert")]["cpu_us"] / o[(ids, conns, "insert")]["cpu_us"]
        print(f"UUID{ids} x {conns} conn: outreach/ceiling (inserts) {ratio:.2f} in entries/s, {by_cpu:.2f} in CPU per "
              f"entry; replays/inserts {replay:.2f}")
    print("(on a loaded machine entries/s swing with the other work; the CPU ratio is what a quiet machine's\n"
          " CPU-bound servers would show)")
    print("targets: ratio >= 0.45 (UUIDv4, 8 conns), >= 0.5 (UUIDv7); p99 <= 100 ms at 8 conns; replays >= 2x inserts; "
          "memory < 150 MB")
    print(f"load average after the runs: {load_average()}")
    if not args.no_burst:
        b = burst()
        print(f"\nend-of-day burst: {BURST_WORKERS} signed-in workers x {BURST_SIZE} entries within {BURST_WINDOW:.0f} s "
              f"(took {b['wall_s']:.1f} s): HTTP {b['codes']}; sent {b['sent']}, entry_versions {b['versions'][0]} "
              f"({b['versions'][1]} distinct), encounters {b['encounters']}, missing {b['missing']}; per request "
              f"p50 {b['p50_ms']:.0f} ms, p99 {b['p99_ms']:.0f} ms, max {b['max_ms']:.0f} ms; server CPU "
              f"{b['cpu_us']:.0f} µs/entry; peak memory {b['peak_rss_mb']:.0f} MB (target: all stored once, no 5xx, "
              f"p99 <= 2 s); load average {load_average()}")


if __name__ == "__main__":
    main()
