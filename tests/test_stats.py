from datetime import date

from outreach.coordinator import stats
from tests.coord_factories import add_encounter, add_outing, add_report

NOV = stats.Period(date(2026, 11, 1), date(2026, 11, 30))


def snapshot(db):
    """Every summary row that counts something (a row brought back to zero is no difference)."""
    return {t: sorted(tuple(r.values()) for r in db[t].rows if r.get("n", r.get("people")))
            for t in ("agg_encounters", "agg_tools", "agg_outings", "agg_tallies", "agg_ages") if db[t].exists()}


def test_overview_counts_encounters_people_tools_and_outcomes(fresh_db):
    add_encounter(fresh_db, people_count=3, tools=["petition", "agora"], interest="wants_to_take_part")
    add_encounter(fresh_db, zone="secteur-2", people_count=1, tools=["petition"], outcome="declined", interest="none")
    add_encounter(fresh_db, occurred_at="2026-10-31T22:59:00+00:00", people_count=50)  # 23:59 in Paris: outside
    o = stats.overview(fresh_db, NOV)
    assert o["totals"] == {"encounters": 2, "people": 4, "tallied": 0, "reached": 4}
    assert o["outcome"] == {"conversation": 1, "declined": 1}
    assert o["interest"] == {"wants_to_take_part": 1, "none": 1}
    assert o["tools"]["petition"]["presented"] == 2
    assert o["tools"]["petition"]["wants_to_take_part"] == 1
    # The zone tables count people reached (three people in the first conversation).
    assert o["zone_tool"] == {"secteur-1": {"petition": 3, "agora": 3}, "secteur-2": {"petition": 1}}
    assert o["zone_week"] == {"secteur-1": {"2026-W46": 3}, "secteur-2": {"2026-W46": 1}}


def test_zone_filter_and_reports_and_outings(fresh_db):
    add_encounter(fresh_db, zone="secteur-1")
    add_encounter(fresh_db, zone="secteur-2")
    add_report(fresh_db, status="accepted", zone="secteur-2")
    add_report(fresh_db, status="submitted", zone="secteur-1")
    add_outing(fresh_db, zone="secteur-2", status="ended")
    add_outing(fresh_db, zone="secteur-2", status="planned", planned_date="2026-11-20")
    o = stats.overview(fresh_db, stats.Period(NOV.start, NOV.end, "secteur-2"))
    assert o["totals"]["encounters"] == 1
    assert o["reports"]["accepted"] == 1 and o["reports"]["submitted"] == 0
    assert o["outings"] == {"ended": 1, "planned": 1}


def test_triggers_follow_updates_and_deletes_and_match_a_rebuild(fresh_db):
    a = add_encounter(fresh_db, tools=["petition", "agora"], people_count=2)
    b = add_encounter(fresh_db, tools=["votation"], zone=None)
    add_outing(fresh_db)
    with fresh_db.conn:  # a newer version moves the encounter to another zone, day and interest
        fresh_db["encounters"].update(a, {"zone": "secteur-3", "occurred_at": "2026-11-12T08:00:00+00:00",
                                          "interest": "none", "people_count": 5})
        fresh_db.execute("delete from encounter_tools where encounter_id = ? and tool = 'agora'", [a])
        # A tool attached to a counted encounter: an update of its row (tools in the row, m230), counted by the trigger.
        fresh_db.execute("insert into encounter_tools (encounter_id, tool) values (?, 'budget_training')", [a])
        fresh_db.execute("delete from encounter_tools where encounter_id = ?", [b])
        fresh_db.execute("delete from encounters where id = ?", [b])
    live = snapshot(fresh_db)
    stats.rebuild(fresh_db)
    assert snapshot(fresh_db) == live
    o = stats.overview(fresh_db, NOV)
    assert o["totals"] == {"encounters": 1, "people": 5, "tallied": 0, "reached": 5}
    assert o["zone_tool"] == {"secteur-3": {"petition": 5, "budget_training": 5}}


def test_weeks_of_a_period_cover_every_iso_week():
    assert stats.weeks_of(stats.Period(date(2026, 12, 28), date(2027, 1, 11))) == ["2026-W53", "2027-W01", "2027-W02"]


def test_aggregates_follow_the_real_sync(field_client, store):
    """Created, then updated to another zone and tools: the dashboard counts follow, and match a rebuild."""
    from outreach import localtime
    from tests.test_sync import encounter

    e = encounter(zone="secteur-3", tools=["petition"], people_count=2)
    body = {"device_id": "phone-stats", "app_version": "1.0", "entries": [e]}
    assert field_client.post("/api/v1/sync", json=body).json()["results"][0]["status"] == "created"
    e2 = dict(e, version=2, data=dict(e["data"], zone="secteur-4", tools=["agora", "votation"], people_count=5))
    body["entries"] = [e2]
    assert field_client.post("/api/v1/sync", json=body).json()["results"][0]["status"] == "updated"
    db = store.db()
    # The city's day, as the aggregates count it (at 23:30 UTC it is already tomorrow in Paris).
    today = localtime.today(localtime.zone_of(db))
    o = stats.overview(db, stats.Period(date(today.year - 1, 1, 1), today))
    assert o["totals"] == {"encounters": 1, "people": 5, "tallied": 0, "reached": 5}
    assert o["zone_tool"] == {"secteur-4": {"agora": 5, "votation": 5}}  # people, not encounters
    live = snapshot(db)
    with store.write() as wdb:
        stats.rebuild(wdb)
    assert snapshot(db) == live


def test_overview_equals_direct_counts_after_random_writes(fresh_db):
    """Random inserts, updates and deletes: the aggregates always equal counting the rows themselves."""
    import random

    rng = random.Random(7)
    zones = ["secteur-1", "secteur-2", "secteur-3", None]
    tools = ["petition", "agora", "votation", "participatory_budget"]
    ids = []
    for _ in range(300):
        ids.append(add_encounter(fresh_db, occurred_at=f"2026-11-{rng.randint(1, 30):02d}T{rng.randint(0, 23):02d}:00:00+00:00",
                                 zone=rng.choice(zones), tools=rng.sample(tools, rng.randint(0, 3)), people_count=rng.randint(1, 9),
                                 interest=rng.choice(["none", "curious", "wants_to_take_part"])))
    with fresh_db.atomic():
        for eid in rng.sample(ids, 60):
            fresh_db["encounters"].update(eid, {"zone": rng.choice(zones), "people_count": rng.randint(1, 9),
                                                "occurred_at": f"2026-11-{rng.randint(1, 30):02d}T12:00:00+00:00"})
        for eid in rng.sample(ids, 40):
            fresh_db.execute("delete from encounter_tools where encounter_id = ?", [eid])
            fresh_db.execute("delete from encounters where id = ?", [eid])
    for zone in ("secteur-2", None):
        period = stats.Period(date(2026, 11, 3), date(2026, 11, 24), zone)
        o = stats.overview(fresh_db, period)
        # Local days in Paris (UTC+1 in November): 3 Nov 00:00 local is 2 Nov 23:00 UTC.
        where = "occurred_at >= '2026-11-02T23:00:00+00:00' and occurred_at < '2026-11-24T23:00:00+00:00'" + (" and zone = 'secteur-2'" if zone else "")
        n, people = fresh_db.execute(f"select count(*), coalesce(sum(people_count), 0) from encounters where {where}").fetchone()
        assert o["totals"] == {"encounters": n, "people": people, "tallied": 0, "reached": people}
        direct = {
            t: c for t, c in fresh_db.execute(
                f"select t.tool, count(*) from encounter_tools t join encounters e on e.id = t.encounter_id where {where.replace('occurred_at', 'e.occurred_at').replace('zone', 'e.zone')} group by t.tool")
        }
        assert {t: v["presented"] for t, v in o["tools"].items()} == direct
