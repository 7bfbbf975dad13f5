"""The coordinator's triage queue with 10,000 reports: query times and whole HTTP pages.

    PYTHONPATH=. python bench/bench_triage.py [number_of_reports]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.testclient import TestClient  # noqa: E402

from outreach.worksites import states as rs  # noqa: E402
from outreach import users  # noqa: E402
from outreach.field import sync  # noqa: E402
from outreach.worksites import open311, public, triage as report_triage  # noqa: E402
from outreach.app import create_app  # noqa: E402
from outreach.settings import Settings  # noqa: E402

CATEGORIES = ["street_furniture", "planting", "painting", "play_sport", "cleanliness", "accessibility", "other"]
STATUS_WEIGHTS = {"submitted": 30, "under_review": 20, "needs_info": 5, "accepted": 10, "scheduled": 5,
                  "in_progress": 5, "done": 15, "declined": 8, "duplicate": 2}


def seed(store, n: int) -> str:
    rnd = random.Random(4)
    now = datetime.now(timezone.utc)
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    with store.write() as db:
        for i in range(n):
            rid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            # Spread over the last 360 days, oldest first.
            when = now - timedelta(days=360 * (n - i) / n, minutes=rnd.randrange(600))
            received = when.isoformat(timespec="seconds")
            photos = [f"{rnd.getrandbits(256):064x}"] if rnd.random() < 0.4 else []
            data = {"title": f"Signalement numéro {i}", "description": "Texte " * 20, "category": rnd.choice(CATEGORIES),
                    "location": {"lat": 45.16 + rnd.random() * 0.04, "lon": 5.70 + rnd.random() * 0.05, "accuracy_m": 10},
                    "address": f"{rnd.randrange(1, 120)} rue de l'Exemple", "where_detail": "", "photos": photos,
                    "wants_to_help": rnd.random() < 0.3, "reporter": None}
            entry = {"id": rid, "kind": "report", "version": 1, "created_at": received, "data": data}
            # The same intake as /report and the sync API, as if the report arrived then.
            [result] = sync.process(db, None, [entry], now=when)["results"]
            assert result["status"] == "created", result
            status = rnd.choices(statuses, weights)[0]
            if status != "submitted":
                db.execute("update reports set status = ? where id = ?", [status, rid])
                db["report_events"].insert({"report_id": rid, "at": received, "kind": "status",
                                            "from_status": "submitted", "to_status": status, "public": 1})
        user = users.create_user(db, "bench@example.org", "bench-password-1", "coordinator")
    return user["email"]


def timed(fn, reps: int = 20) -> tuple[float, float]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), secret_key="bench-" + "x" * 40))
        store = app.state.store
        start = time.perf_counter()
        email = seed(store, n)
        print(f"seeded {n} reports in {time.perf_counter() - start:.1f} s")
        db = store.db()
        some_id = next(db.query("select id from reports order by received_at limit 1 offset ?", [n // 2]))["id"]

        def page(params, after=None):
            f, _ = report_triage.triage_filters(db, params)
            return report_triage.triage_list(db, f, after=after)

        deep = None
        cursor = None
        for _ in range(min(60, n // 50 - 1)):  # walk up to 60 pages (3,000 reports) to time a deep page
            cursor = page({"status": "all"}, cursor)["next"]
        deep = cursor
        cases = [
            ("open reports, first page", lambda: page({"status": "open"})),
            ("all reports, page 61 (keyset)", lambda: page({"status": "all"}, deep)),
            ("category + zone + with photo", lambda: page({"status": "open", "category": "planting", "zone": "secteur-2",
                                                           "with_photo": "1"})),
            ("wants to help, date range", lambda: page({"status": "all", "wants_to_help": "1", "date_from": "2026-03-01",
                                                        "date_to": "2026-08-31"})),
            ("text search 'numéro 99'", lambda: page({"status": "all", "q": "numéro 99"})),
            ("one report's detail", lambda: report_triage.detail(db, some_id)),
            ("nearby (150 m, same category)", lambda: public.nearby_open(db, "planting", 45.18, 5.725)),
            ("Open311 GET requests (last 90 days)", lambda: open311.list_requests(db, {}, base_url="http://x")),
        ]
        print(f"triage queries on {n} reports (median / max over 20 runs, ms)")
        for label, fn in cases:
            med, worst = timed(fn)
            print(f"  {label:<34} {med:7.2f} / {worst:7.2f}")
        with TestClient(app, base_url="http://localhost") as client:
            r = client.post("/api/v1/session", json={"email": email, "password": "bench-password-1"})
            assert r.status_code == 200
            print("whole HTTP pages through Starlette (median / max over 20 runs, ms)")
            for label, url in (("GET /coordinator/reports", "/coordinator/reports"),
                               ("GET /coordinator/reports?category=…&with_photo=1",
                                "/coordinator/reports?category=painting&with_photo=1"),
                               ("GET /coordinator/reports/<id>", f"/coordinator/reports/{some_id}")):
                assert client.get(url).status_code == 200
                med, worst = timed(lambda: client.get(url))
                print(f"  {label:<50} {med:7.2f} / {worst:7.2f}")
        store.close()
    assert rs.STATES  # the states module is the one the queue filters on


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
