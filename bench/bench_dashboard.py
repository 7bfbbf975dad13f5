"""How the coordinator pages scale: dashboard overview, a filtered list page, a one-month CSV export.

    PYTHONPATH=. /tmp/venv/bin/python bench/bench_dashboard.py            # 10,000 then 1,000,000 encounters
    PYTHONPATH=. /tmp/venv/bin/python bench/bench_dashboard.py --sizes 10000

Data are generated with fast bulk inserts (the aggregate triggers are dropped during the load,
then recreated and the aggregate tables rebuilt, exactly as after a restore). Each page is
requested through the real app (routing, access check, SQL, template) with a signed-in
coordinator; the figure is the median server time of several requests. The ratio compares
each size with the smallest one: a ratio near 1 means the cost does not grow with the data.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from outreach import migrations, refdata
from outreach.coordinator import stats
from outreach.db import connect

ZONES = ["secteur-1", "secteur-2", "secteur-3", "secteur-4", "secteur-5", "secteur-6"]
TOOLS = ["participatory_budget", "petition", "citizen_council", "votation", "agora", "open_worksite",
         "budget_training", "user_committee", "project_consultation"]
PLACES = ["street", "market", "school_gate", "building_entrance", "transport", "shop", "event", "other"]
OUTCOMES = ["conversation", "brief", "flyer_only", "declined", "already_informed"]
INTERESTS = ["none", "curious", "wants_to_take_part"]
FORMATS = ["market", "building_foot", "walkabout", "stand", "door_to_door", "event"]
STATES = ["submitted", "under_review", "needs_info", "accepted", "scheduled", "in_progress", "done", "declined", "duplicate"]
END = datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)
DAYS = 365


def _when(rng: random.Random) -> str:
    return (END - timedelta(seconds=rng.randrange(DAYS * 86400))).isoformat(timespec="seconds")


def generate(path: Path, encounters: int, outings: int, reports: int, seed: int = 1) -> float:
    """Fill a fresh database; returns the seconds it took."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    db = connect(path)
    migrations.apply(db)
    refdata.seed(db)
    triggers = [r[0] for r in db.execute("select sql from sqlite_master where type = 'trigger' and name like 'agg_%'")]
    for (name,) in db.execute("select name from sqlite_master where type = 'trigger' and name like 'agg_%'").fetchall():
        db.execute(f"drop trigger {name}")
    conn: sqlite3.Connection = db.conn
    conn.execute("pragma synchronous = off")
    with conn:
        conn.executemany(
            "insert into users (id, email, display_name, role, password_hash, active, created_at) values (?, ?, ?, 'field', 'x', 1, ?)",
            [(i, f"agent{i}@bench.example", f"Agent {i}", END.isoformat()) for i in range(1, 101)],
        )
    outing_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(outings)]
    with conn:
        rows, members = [], []
        for oid in outing_ids:
            started = _when(rng)
            planned = rng.random() < 0.1
            rows.append((oid, 1, "h", rng.choice(ZONES), rng.choice(FORMATS), "planned" if planned else "ended",
                         started[:10] if planned else None, None if planned else started, None, "", None, started))
            for u in rng.sample(range(1, 101), 2):
                members.append((oid, u))
        conn.executemany(
            "insert into outings (id, version, hash, zone, format, status, planned_date, started_at, ended_at, debrief, "
            "created_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("insert into outing_members (outing_id, user_id) values (?, ?)", members)
    batch = 50_000
    for start in range(0, encounters, batch):
        rows = []
        for _ in range(min(batch, encounters - start)):
            eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            when = _when(rng)
            located = rng.random() < 0.3
            rows.append((
                eid, 1, "h", rng.randrange(1, 101), "dev", rng.choice(outing_ids) if rng.random() < 0.5 else None,
                when, rng.choice(PLACES), rng.choice(ZONES) if rng.random() < 0.95 else None,
                round(45.16 + rng.random() * 0.04, 3) if located else None,
                round(5.69 + rng.random() * 0.07, 3) if located else None,
                rng.randint(1, 4), rng.choices(OUTCOMES, [5, 3, 2, 1, 1])[0], rng.choices(INTERESTS, [3, 4, 2])[0],
                "", when, when, json.dumps(sorted(rng.sample(TOOLS, rng.choice([0, 1, 1, 2, 2, 3]))), separators=(",", ":")),
            ))
        with conn:
            conn.executemany(
                "insert into encounters (id, version, hash, user_id, device_id, outing_id, occurred_at, place_type, zone, "
                "lat, lon, people_count, outcome, interest, note, created_at, received_at, tools) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    with conn:
        rows = []
        for _ in range(reports):
            when = _when(rng)
            state = rng.choice(STATES)
            rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), "resident", "Banc à réparer", "",
                         "street_furniture", rng.choice(ZONES), state, when, when,
                         when if state in ("done", "declined", "duplicate") else None))
        conn.executemany(
            "insert into reports (id, source, title, description, category, zone, status, received_at, created_at, closed_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    for sql in triggers:
        db.execute(sql)
    stats.rebuild(db)
    db.execute("analyze")
    db.close()
    return time.perf_counter() - t0


def timed(client, url: str, repeat: int = 5, form: dict | None = None) -> tuple[float, int]:
    """Median wall time (ms) of GET url (POST ``form`` when given) through the app, and the size
    of the last body."""
    times, size = [], 0
    fetch = (lambda: client.post(url, data=form)) if form is not None else (lambda: client.get(url))
    fetch()  # warm the page cache and the template
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = fetch()
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        size = len(r.content)
    return statistics.median(times), size


def measure(path: Path) -> dict[str, tuple[float, int]]:
    from starlette.testclient import TestClient

    from outreach.app import create_app
    from outreach.settings import Settings
    from outreach.users import create_user

    settings = Settings(data_dir=path.parent, secret_key="bench-secret-key")
    db = connect(path)
    create_user(db, "coord@bench.example", "bench-pass-1234", role="coordinator", display_name="Coord")
    db.close()
    app = create_app(settings)
    out = {}
    with TestClient(app, base_url="http://localhost") as client:
        r = client.post("/login", data={"email": "coord@bench.example", "password": "bench-pass-1234",
                                         "csrf_token": _csrf(client)}, follow_redirects=False)
        assert r.status_code in (302, 303), r.text[:300]
        today = END.date()
        start = stats.default_period(today).start
        out["overview (8 weeks)"] = timed(client, f"/coordinator?start={start}&end={today}")
        out["overview (1 year)"] = timed(client, f"/coordinator?start={today - timedelta(days=364)}&end={today}")
        out["filtered list"] = timed(client, f"/coordinator/encounters?zone=secteur-3&tool=petition&outcome=conversation"
                                             f"&start={today - timedelta(days=90)}&end={today}")
        # Downloads are POSTs with the exports page's CSRF token (each one writes the audit log).
        month = {"start": str(today.replace(day=1) - timedelta(days=30)), "end": str(today.replace(day=1) - timedelta(days=1)),
                 "csrf_token": _csrf(client, "/coordinator/exports")}
        out["CSV export, one month"] = timed(client, "/coordinator/exports/encounters.csv", repeat=3, form=month)
    return out


def _csrf(client, url: str = "/login") -> str:
    import re

    page = client.get(url).text
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return m.group(1) if m else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated encounter counts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
            path = Path(tmp) / "outreach.db"
            # Outings and reports scale with the encounters (20,000 and 100,000 at 1,000,000).
            took = generate(path, n, max(200, n // 50), max(1000, n // 10))
            print(f"{n:>9,} encounters generated in {took:.1f} s ({path.stat().st_size / 1e6:.0f} MB)", flush=True)
            results[n] = measure(path)
            for name, (ms, size) in results[n].items():
                print(f"    {name:<24} {ms:8.1f} ms   {size / 1024:8.0f} KiB", flush=True)
    base = sizes[0]
    for n in sizes[1:]:
        print(f"ratio {n:,} / {base:,} encounters:")
        for name in results[n]:
            print(f"    {name:<24} {results[n][name][0] / results[base][name][0]:6.2f}")


if __name__ == "__main__":
    main()
