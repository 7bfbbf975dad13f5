"""Zones as places: assigning zones to stored positions, the dashboard with its choropleth, bootstrap size.

    PYTHONPATH=. .venv/bin/python bench/bench_zones.py                      # all three, 10,000 and 1,000,000
    PYTHONPATH=. .venv/bin/python bench/bench_zones.py --sizes 10000 --skip-assign
    PYTHONPATH=. .venv/bin/python bench/bench_zones.py --sizes 10000,1000000 --best-of 30 --skip-assign

1. ``assign``: 100,000 stored encounters with a position and no zone, over 50 zones whose
   boundaries have ~400 vertices each (as detailed as IRIS contours); the time of
   ``locate.assign_past`` (point-in-polygon over an STRtree, then the updates, aggregate
   triggers included).
2. ``dashboard``: the data of bench_dashboard.py (one year; outings with tallies; a third of
   the encounters with an age band) and the demo's six sector boundaries with populations;
   server time of the dashboard (reach per 1,000, choropleth, age bands, zone tables) and of
   the planning page (proposals), each at every size, and the ratio between sizes. Each page is
   requested ``--best-of`` times (default 5): the best time is the figure (on a shared, noisy
   machine the other helpers' load only ever adds time), the median is printed beside it.
3. ``bootstrap``: the size of GET /api/v1/bootstrap, raw and gzip-compressed, with 20 zones
   imported from detailed boundaries (~1,500 vertices each), simplified for the phone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from outreach import demo, migrations, refdata
from outreach.coordinator import stats
from outreach.db import connect
from outreach.zones import geojson, importer, locate

ORIGIN = (5.68, 45.15)


def blob(cx: float, cy: float, r: float, vertices: int, rng: random.Random) -> list[list[float]]:
    """A wiggly closed ring around (cx, cy): a detailed boundary like a published contour."""
    ring = []
    for i in range(vertices):
        a = 2 * math.pi * i / vertices
        rr = r * (0.85 + 0.1 * math.sin(7 * a) + 0.05 * rng.random())
        ring.append([round(cx + rr * math.cos(a) / 0.7, 6), round(cy + rr * math.sin(a), 6)])
    return ring + [ring[0]]


def zone_file(n: int, vertices: int, seed: int = 3) -> bytes:
    """n zones on a grid of cells 0.01° apart, each a detailed blob filling its cell."""
    rng = random.Random(seed)
    cols = math.ceil(math.sqrt(n * 2))
    features = []
    for i in range(n):
        cx, cy = ORIGIN[0] + 0.014 * (i % cols), ORIGIN[1] + 0.01 * (i // cols)
        features.append({"type": "Feature", "properties": {"code": f"z-{i:03d}", "nom": f"Quartier {i}", "pop": 3000 + i},
                         "geometry": {"type": "Polygon", "coordinates": [blob(cx, cy, 0.0048, vertices, rng)]}})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


MAPPING = geojson.Mapping("code", "nom", "pop")


def bench_assign(positions: int = 100_000, zones: int = 50) -> None:
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
        db = connect(Path(tmp) / "z.db")
        migrations.apply(db)
        refdata.seed(db)
        rng = random.Random(1)
        cols = math.ceil(math.sqrt(zones * 2))
        rows = []
        for _ in range(positions):
            lon = round(ORIGIN[0] - 0.005 + rng.random() * 0.014 * cols, 3)
            lat = round(ORIGIN[1] - 0.005 + rng.random() * 0.01 * (zones // cols + 1), 3)
            when = f"2026-11-{rng.randint(1, 30):02d}T10:00:00+00:00"
            rows.append((str(uuid.uuid4()), 1, "h", when, "street", lat, lon, 1, "conversation", "curious", "", when, when))
        with db.conn:
            db.conn.executemany(
                "insert into encounters (id, version, hash, occurred_at, place_type, lat, lon, people_count, outcome, "
                "interest, note, created_at, received_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        stats.rebuild(db)
        features = geojson.read(zone_file(zones, 400), MAPPING)
        with db.conn:
            t0 = time.perf_counter()
            plan = importer.preview(db, features)
            for item in plan["new"]:  # the import without its own assign step, to time that step alone
                r = item["row"]
                db["zones"].insert({"code": r.code, "label_fr": r.name, "label_en": r.name, "lat": r.lat, "lon": r.lon,
                                    **importer._geo(r, "now")})
            t_import = time.perf_counter() - t0
        with db.conn:
            t0 = time.perf_counter()
            counts = locate.assign_past(db)
            took = time.perf_counter() - t0
        distinct = db.execute("select count(*) from (select distinct lat, lon from encounters)").fetchone()[0]
        print(f"assign: {counts['encounters']:,} of {positions:,} stored positions ({distinct:,} distinct) given a zone "
              f"over {zones} zones in {took:.2f} s (import of the 50 boundaries: {t_import:.2f} s)", flush=True)
        db.close()


def bench_bootstrap(zones: int = 20) -> None:
    from starlette.testclient import TestClient

    from outreach.app import create_app
    from outreach.settings import Settings
    from outreach.users import create_user

    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key="bench-secret-key")
        app = create_app(settings)
        db = connect(Path(tmp) / "outreach.db")
        create_user(db, "w@bench.example", "bench-pass-1234", role="field", display_name="W")
        raw = zone_file(zones, 1500)
        with db.conn:
            importer.apply(db, importer.preview(db, geojson.read(raw, MAPPING)), None)
        db.close()
        with TestClient(app, base_url="http://localhost") as client:
            client.post("/api/v1/session", json={"email": "w@bench.example", "password": "bench-pass-1234"})
            body = client.get("/api/v1/bootstrap").content
        outlines = json.dumps(json.loads(body)["zone_outlines"]).encode()
        print(f"bootstrap with {zones} zones (file {len(raw) / 1024:.0f} KiB, 1,500 vertices each): "
              f"{len(body) / 1024:.1f} KiB raw, {len(gzip.compress(body)) / 1024:.1f} KiB gzip "
              f"(outlines alone {len(gzip.compress(outlines)) / 1024:.1f} KiB gzip)", flush=True)


def timed_best(client, url: str, repeat: int) -> tuple[float, float, int]:
    """Best and median wall time (ms) of GET url over ``repeat`` requests (after one to warm up), and the body size."""
    times, size = [], 0
    client.get(url)
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        size = len(r.content)
    return min(times), statistics.median(times), size


def bench_dashboard(sizes: list[int], best_of: int = 5) -> None:
    import bench_dashboard as bd

    results = {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="outreach-bench-") as tmp:
            path = Path(tmp) / "outreach.db"
            took = bd.generate(path, n, max(200, n // 50), max(1000, n // 10))
            db = connect(path)
            rng = random.Random(5)
            outings = [r[0] for r in db.execute("select id from outings where status = 'ended'")]
            with db.conn:
                db.conn.executemany("insert into outing_tallies (outing_id, tool, count) values (?, ?, ?)",
                                    [(o, t, rng.randint(1, 15)) for o in outings for t in rng.sample(bd.TOOLS, 2)])
                db.execute("update encounters set age_band = case abs(random()) % 5 when 0 then 'under_18' "
                           "when 1 then '18_29' when 2 then '30_44' when 3 then '45_64' else '65_plus' end "
                           "where abs(random()) % 3 = 0")
                demo.seed_zones(db)
            db.execute("analyze")
            db.close()
            print(f"{n:>9,} encounters generated in {took:.1f} s", flush=True)
            results[n] = measure(path, best_of)
            for name, (best, median, size) in results[n].items():
                print(f"    {name:<28} best {best:7.1f} ms   median {median:7.1f} ms   {size / 1024:6.0f} KiB", flush=True)
    for n in sizes[1:]:
        print(f"ratio {n:,} / {sizes[0]:,} encounters (best of {best_of}; medians in brackets):")
        for name in results[n]:
            big, small = results[n][name], results[sizes[0]][name]
            print(f"    {name:<28} {big[0] / small[0]:6.2f}   ({big[1] / small[1]:.2f})")


def measure(path: Path, best_of: int = 5) -> dict:
    import bench_dashboard as bd
    from starlette.testclient import TestClient

    from outreach.app import create_app
    from outreach.settings import Settings
    from outreach.users import create_user

    db = connect(path)
    create_user(db, "coord@bench.example", "bench-pass-1234", role="coordinator", display_name="Coord")
    db.close()
    app = create_app(Settings(data_dir=path.parent, secret_key="bench-secret-key"))
    out = {}
    with TestClient(app, base_url="http://localhost") as client:
        client.post("/login", data={"email": "coord@bench.example", "password": "bench-pass-1234",
                                     "csrf_token": bd._csrf(client)}, follow_redirects=False)
        today = bd.END.date()
        start = stats.default_period(today).start
        page = client.get(f"/coordinator?start={start}&end={today}").text
        assert page.count("<path") == 6, "the choropleth should draw the six sectors"
        out["dashboard + choropleth (8 w)"] = timed_best(client, f"/coordinator?start={start}&end={today}", best_of)
        out["planning + proposals (8 w)"] = timed_best(client, "/coordinator/planning?weeks=8", best_of)
    return out


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated encounter counts for the dashboard")
    parser.add_argument("--skip-assign", action="store_true")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--skip-bootstrap", action="store_true")
    parser.add_argument("--best-of", type=int, default=5, help="requests per page; the best time is the figure")
    args = parser.parse_args()
    if not args.skip_assign:
        bench_assign()
    if not args.skip_bootstrap:
        bench_bootstrap()
    if not args.skip_dashboard:
        bench_dashboard([int(s) for s in args.sizes.split(",")], max(1, args.best_of))


if __name__ == "__main__":
    main()
