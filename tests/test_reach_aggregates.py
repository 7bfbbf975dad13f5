"""The reach summaries (people tallied per day x zone x tool, people met per day x zone x age band)
always equal a recomputation from the raw rows, after every kind of write that touches them, and
the dashboard's reach figures read from them are those of the raw rows."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

from outreach import localtime, migrations, privacy, refdata
from outreach.coordinator import planning, reach, stats
from outreach.db import connect
from outreach.field import sync
from outreach.zones import locate
from tests.coord_factories import add_encounter, add_outing
from tests.test_stats import snapshot
from tests.test_sync import encounter, iso, make_user, outing
from tests.test_zones import import_file

BANDS = ["under_18", "18_29", "30_44", "45_64", "65_plus"]
ZONES = ["aa", "bb", "secteur-1", None]


def raw_tally_rows(db, period: stats.Period) -> list[tuple]:
    """Tallied people per (zone, day, tool), read from the outings and their tallies themselves."""
    sql = ("select coalesce(o.zone, ''), local_day(o.started_at), t.tool, sum(t.count) from outings o "
           "join outing_tallies t on t.outing_id = o.id where o.started_at >= ? and o.started_at < ?")
    params = list(period.instants(db))
    if period.zone is not None:
        sql += " and o.zone = ?"
        params.append(period.zone)
    return sorted(tuple(r) for r in db.execute(sql + " group by 1, 2, 3 having sum(t.count) > 0", params))


def raw_people_by_band(db, period: stats.Period, zones: list[str]) -> dict[str, int]:
    """People met per age band, read from the encounters themselves."""
    rows = db.execute(
        "select age_band, sum(people_count) from encounters where age_band is not null and occurred_at >= ? "
        "and occurred_at < ? and zone in (select value from json_each(?)) group by age_band having sum(people_count) > 0",
        [*period.instants(db), json.dumps(zones)])
    return dict(rows.fetchall())


PERIODS = [stats.Period(date(2026, 11, 1), date(2026, 11, 30)), stats.Period(date(2026, 11, 9), date(2026, 11, 11)),
           stats.Period(date(2026, 11, 1), date(2026, 11, 30), "aa"), stats.Period(date(2026, 6, 1), date(2026, 12, 31))]


def assert_exact(db):
    """The live summaries equal a rebuild from the source rows, and every reach figure equals the raw rows'."""
    for period in PERIODS:
        assert sorted(stats.tally_rows(db, period)) == raw_tally_rows(db, period)
        for zones in (["aa"], ["aa", "bb", "secteur-1"], ["cc", "dd"]):
            assert stats.people_by_band(db, period, zones) == raw_people_by_band(db, period, zones)
    live = snapshot(db)
    with db.atomic():
        stats.rebuild(db)
    assert snapshot(db) == live


def some_day(rng) -> str:
    # Days around local midnight (Paris is UTC+1 in November): 23:30 UTC is the next local day.
    return f"2026-11-{rng.randint(8, 12):02d}T{rng.choice(['09:00', '22:45', '23:30'])}:00+00:00"


def test_reach_summaries_stay_exact_through_every_kind_of_write(fresh_db):
    db = fresh_db
    import_file(db)  # zones aa, bb, cc, dd with boundaries
    rng = random.Random(11)
    user = make_user(db)
    # Written straight (the factories count inserts as every writer does; tallies by their triggers).
    ids = [add_encounter(db, zone=rng.choice(ZONES), occurred_at=some_day(rng), people_count=rng.randint(1, 6),
                         age_band=rng.choice(BANDS + [None]), lat=rng.choice([None, 45.02, 45.05]),
                         lon=rng.choice([5.02, 5.15])) for _ in range(80)]
    outings = [add_outing(db, zone=rng.choice(ZONES), started_at=some_day(rng),
                          tallies={t: rng.randint(0, 9) for t in rng.sample(["petition", "agora", "votation"], 2)})
               for _ in range(12)]
    assert_exact(db)

    # Through the sync: encounters with age bands (a batch), outings with tallies, then newer versions.
    sent = [encounter(zone=rng.choice(["aa", "bb", None]), audience=rng.choice([None, {"age_band": "18_29"}]),
                      people_count=rng.randint(1, 5)) for _ in range(30)]
    trips = [outing(zone="aa", tallies={"petition": 4, "agora": 2}), outing(zone="bb", tallies={"votation": 3})]
    with db.atomic():
        assert {r["status"] for r in sync.process(db, user, sent + trips, device_id="phone-0001")["results"]} == {"created"}
    assert_exact(db)
    moved = dict(trips[0], version=2, data=dict(trips[0]["data"], zone="bb", started_at=iso(-timedelta(days=2)),
                                                tallies={"petition": 7}))
    edited = [dict(e, version=2, data=dict(e["data"], zone="aa", audience={"age_band": "65_plus"}, people_count=9))
              for e in sent[:10]]
    with db.atomic():
        assert {r["status"] for r in sync.process(db, user, [moved] + edited, device_id="phone-0001")["results"]} == {"updated"}
    assert_exact(db)

    # Corrections and deletions written directly (the update and delete triggers).
    with db.atomic():
        for eid in rng.sample(ids, 20):
            db["encounters"].update(eid, {"zone": rng.choice(ZONES), "age_band": rng.choice(BANDS + [None]),
                                          "people_count": rng.randint(1, 9), "occurred_at": some_day(rng)})
        for eid in rng.sample(ids, 10):
            db.execute("delete from encounter_tools where encounter_id = ?", [eid])
            db.execute("delete from encounters where id = ?", [eid])
        db["outings"].update(outings[0], {"zone": "bb", "started_at": "2026-11-09T23:30:00+00:00"})
        db.execute("update outing_tallies set count = count + 5 where outing_id = ?", [outings[1]])
        db.execute("delete from outing_tallies where outing_id = ?", [outings[2]])
        db.execute("delete from outings where id = ?", [outings[2]])
    assert_exact(db)

    # Zones filled from positions (assign-zones, and every import), and a bulk move between zones.
    with db.atomic():
        assert locate.assign_past(db)["encounters"] > 0
    assert_exact(db)
    with db.atomic():
        stats.set_zones(db, "select rowid, 'dd' from encounters where zone = 'aa'")
    assert_exact(db)

    # A planned outing cancelled before it started; a privacy erasure (notes scrubbed, nothing moves).
    member = make_user(db, "teammate@example.org")
    with db.atomic():
        planned = planning.plan(db, {"zone": "aa", "format": "market", "planned_date": "2026-12-02", "planned_start": "14:00",
                                     "planned_end": "17:00", "meeting_point": "Marché", "meeting_lat": None,
                                     "meeting_lon": None, "members": [member["id"]]}, user["id"])
        db["outing_tallies"].insert({"outing_id": planned, "tool": "petition", "count": 3})
        assert planning.cancel(db, planned, user["id"])
    assert_exact(db)
    before = snapshot(db)
    with db.atomic():
        add_encounter(db, zone="aa", age_band="18_29", note="Alice alice@example.org")
        privacy.erase(db, privacy.find(db, "alice@example.org"), user_id=user["id"])
    assert_exact(db)
    assert snapshot(db) != before

    # Another city's zone: every summary is rebuilt on that zone's local days.
    with db.atomic():
        localtime.configure(db, "America/New_York")
    assert_exact(db)


def test_the_dashboard_reach_figures_are_those_of_the_raw_rows(fresh_db):
    """Reach per 1,000 and age-band shares, from the summaries, against the same figures counted by hand."""
    db = fresh_db
    import_file(db)
    add_encounter(db, zone="aa", people_count=3, age_band="18_29")
    add_encounter(db, zone="aa", people_count=2, age_band="65_plus", occurred_at="2026-11-30T23:30:00+00:00")  # 1 Dec
    add_encounter(db, zone="bb", people_count=4)
    add_outing(db, zone="aa", started_at="2026-11-12T09:00:00+00:00", tallies={"petition": 9, "agora": 1})
    add_outing(db, zone="aa", started_at="2026-10-31T23:30:00+00:00", tallies={"petition": 5})  # 1 Nov, local
    period = stats.Period(date(2026, 11, 1), date(2026, 11, 30))
    rows = {r.code: r for r in reach.by_zone(db, period)}
    assert (rows["aa"].conversations, rows["aa"].tallied, rows["aa"].per_1000) == (3, 15, 9.0)  # 18 / 2,000 residents
    assert (rows["bb"].conversations, rows["bb"].tallied, rows["bb"].per_1000) == (4, 0, 8.0)  # 4 / 500
    shares = reach.age_shares(db, period, BANDS)
    assert {r["band"]: r["met"] for r in shares["rows"]} == {"under_18": 0, "18_29": 3, "30_44": 0, "45_64": 0, "65_plus": 0}
    assert stats.overview(db, period)["totals"]["tallied"] == 15


def test_an_older_database_gets_its_reach_summaries_filled(tmp_path):
    """Upgrade path: outings with tallies and encounters with age bands written before the summaries existed."""
    db = connect(tmp_path / "old.db")
    migrations.migrations.apply(db, stop_before="m200_reach_aggregates")
    refdata.seed(db)
    add_outing(db, zone="secteur-2", started_at="2026-11-10T23:30:00+00:00", tallies={"petition": 4, "agora": 0})
    for zone, people in (("secteur-2", 3), (None, 1), ("secteur-2", 2)):
        db["encounters"].insert({"id": f"e-{people}", "version": 1, "hash": "h", "occurred_at": "2026-11-10T10:00:00+00:00",
                                 "place_type": "street", "zone": zone, "people_count": people, "outcome": "brief",
                                 "interest": "none", "age_band": "30_44" if people != 2 else None})
    migrations.apply(db)
    assert db.execute("select day, zone, tool, people from agg_tallies where people > 0").fetchall() == [
        ("2026-11-11", "secteur-2", "petition", 4)]
    assert sorted(db.execute("select day, zone, band, n, people from agg_ages").fetchall()) == [
        ("2026-11-10", "", "30_44", 1, 1), ("2026-11-10", "secteur-2", "30_44", 1, 3)]
    with db.atomic():  # later writes keep them exact
        db["encounters"].update("e-2", {"age_band": "18_29"})
        add_outing(db, zone="secteur-2", started_at="2026-11-12T10:00:00+00:00", tallies={"agora": 2})
    live = {t: rows for t, rows in snapshot(db).items() if t in ("agg_tallies", "agg_ages")}
    with db.atomic():
        stats.rebuild(db)
    assert {t: rows for t, rows in snapshot(db).items() if t in ("agg_tallies", "agg_ages")} == live
    db.close()
