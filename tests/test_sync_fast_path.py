"""The sync hot path's shortcuts never change an answer: fast validation equals the full check,
and aggregates written once per batch equal a rebuild, for every writer of encounters."""

from __future__ import annotations

import copy
import random
from datetime import timedelta

import pytest

from outreach.field import encounters, sync
from outreach.coordinator import stats
from tests.test_sync import BAD_ENCOUNTER, encounter, iso, make_user

VALUES = [None, True, False, 0, 1, -1, 2.5, 201, 1e300, "", " ", "x", "secteur-1", "street", "brief", "curious",
          "fr", "<script>", "bad\x00byte", "x" * 501, [], ["petition"], ["petition", "petition"], [1], {},
          {"lat": 45.1, "lon": 5.7}, {"lat": 95, "lon": 5.7}, {"lat": 45.1, "lon": 5.7, "accuracy_m": -1},
          {"age_band": "18_29"}, {"language": "fr-CH"}, {"age_band": None, "language": None}, {"x": 1},
          "3f0c6a4e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", "2026-11-30T10:00:00+01:00", "2020-01-01T00:00:00Z"]


def full_check(ctx, data):
    return encounters._check(ctx, data)


def assert_same(ctx, data):
    fast = encounters._well_formed(ctx, data)
    slow = full_check(ctx, copy.deepcopy(data))
    if fast is not None:
        assert slow.errors == {}, (data, slow.errors)
        assert fast == slow.clean, data
    return fast, slow


def sample_encounters(n, seed=3):
    rng = random.Random(seed)
    fields = sorted(encounters.FIELDS) + ["extra"]
    for i in range(n):
        data = encounter(zone=rng.choice(["secteur-1", "secteur-2", None]),
                         location=rng.choice([None, {"lat": 45.18, "lon": 5.72, "accuracy_m": 20},
                                              {"lat": -12.3456, "lon": 170, "accuracy_m": None}]),
                         audience=rng.choice([None, {"age_band": "65_plus"}, {"language": "ar"}]),
                         note=rng.choice(["", "  a note  ", "é" * 500]))["data"]
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(fields)
            if rng.random() < 0.2:
                data.pop(key, None)
            else:
                data[key] = rng.choice(VALUES)
        yield data


@pytest.fixture
def ctx(fresh_db):
    return sync.Context(fresh_db, make_user(fresh_db))


def test_fast_validation_takes_well_formed_data_and_cleans_it_like_the_full_check(ctx):
    data = encounter(location={"lat": 45.18349, "lon": 5.7249, "accuracy_m": 12.6}, note="  hello  ",
                     audience={"age_band": "18_29", "language": "fr"})["data"]
    fast, slow = assert_same(ctx, data)
    assert fast is not None and fast["location"] == {"lat": 45.183, "lon": 5.725, "accuracy_m": 100}


@pytest.mark.parametrize("field,value", BAD_ENCOUNTER, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_ENCOUNTER)])
def test_fast_validation_never_accepts_what_the_full_check_refuses(ctx, field, value):
    fast, slow = assert_same(ctx, encounter(**{field: value})["data"])
    assert fast is None and slow.errors


def test_fast_validation_agrees_with_the_full_check_on_random_mutations(ctx):
    accepted = refused = 0
    for data in sample_encounters(3000):
        fast, slow = assert_same(ctx, data)
        if fast is not None:
            accepted += 1
        elif slow.errors:
            refused += 1
        else:  # the full check accepts: only a follow-up contact may take the long way
            assert data.get("follow_up") is not None, data
    assert accepted > 300 and refused > 300


def test_the_batch_path_gives_the_same_answers_as_one_by_one(fresh_db):
    """Valid, invalid, duplicated and replayed entries: results equal the checks one entry at a time."""
    user = make_user(fresh_db)
    entries = [dict(e, data=d) for e, d in zip((encounter() for _ in range(400)), sample_encounters(400, seed=11))]
    entries += [entries[0], entries[5]]  # duplicated ids inside one batch
    with fresh_db.atomic():
        results = sync.process(fresh_db, user, entries, device_id="phone-0001")["results"]
    for entry, result in zip(entries, results):
        alone = full_check(sync.Context(fresh_db, user), entry["data"])
        if result["status"] == "rejected" and "id" not in result["errors"]:
            assert result["errors"] == alone.errors
        elif result["status"] == "created":
            assert alone.errors == {}
            assert result["hash"] == sync.content_hash(entry["data"])
    assert [r["status"] for r in results[-2:]] == ["rejected", "rejected"]
    created = sum(r["status"] == "created" for r in results)
    assert fresh_db["encounters"].count == fresh_db["entry_versions"].count == created
    with fresh_db.atomic():
        again = sync.process(fresh_db, user, entries[:400], device_id="phone-0001")["results"]
    assert [r["status"] for r in again] == ["unchanged" if r["status"] == "created" else "rejected" for r in results[:400]]


def snapshot(db):
    """Every summary row that counts something (a row brought back to zero is no difference)."""
    return {t: sorted(tuple(r.values()) for r in db[t].rows if r.get("n", r.get("people")))
            for t in ("agg_encounters", "agg_tools", "agg_outings", "agg_tallies", "agg_ages") if db[t].exists()}


def test_every_writer_of_encounters_keeps_the_aggregates_equal_to_a_rebuild(fresh_db, monkeypatch):
    """Sync batches (new, updated, replayed, with contacts), the one-by-one fallback, the demo
    seeding, the test factories and privacy erasure: the live aggregates equal a full rebuild."""
    from outreach import demo, privacy
    from tests.coord_factories import add_encounter

    def check():
        live = snapshot(fresh_db)
        with fresh_db.atomic():
            stats.rebuild(fresh_db)
        assert snapshot(fresh_db) == live

    demo.seed(fresh_db, encounters=60)
    check()
    user = make_user(fresh_db)
    rng = random.Random(5)
    tools = ["participatory_budget", "petition", "agora", "votation"]

    def some(n):
        return [encounter(zone=rng.choice(["secteur-1", "secteur-2", None]), tools=rng.sample(tools, rng.randint(0, 3)),
                          people_count=rng.randint(1, 9), occurred_at=iso(-timedelta(hours=rng.randint(0, 200))),
                          audience=rng.choice([None, {"age_band": "18_29"}, {"age_band": "65_plus", "language": "fr"}]))
                for _ in range(n)]

    batch = some(150)
    batch[3]["data"]["follow_up"] = {"consent": True, "consent_text_version": "2026-01", "channel": "email",
                                     "contact": "resident@example.org", "purposes": ["petition"]}
    with fresh_db.atomic():
        assert {r["status"] for r in sync.process(fresh_db, user, batch, device_id="phone-0001")["results"]} == {"created"}
    check()
    # Newer versions move zone, day, people, tools and age band; mixed with new entries and replays in one batch.
    newer = [dict(e, version=2, data=dict(e["data"], zone="secteur-4", tools=rng.sample(tools, rng.randint(0, 3)),
                                          people_count=rng.randint(1, 9), occurred_at=iso(-timedelta(days=3)),
                                          audience=rng.choice([None, {"age_band": "30_44"}])))
             for e in batch[:40]]
    with fresh_db.atomic():
        statuses = [r["status"] for r in sync.process(fresh_db, user, newer + some(30) + batch[40:60],
                                                      device_id="phone-0001")["results"]]
    assert statuses == ["updated"] * 40 + ["created"] * 30 + ["unchanged"] * 20
    check()
    # The one-by-one fallback (a clash inside the batch sends every entry through its own savepoint).
    clash = some(1)[0]
    fresh_db["encounters"].insert({"id": clash["id"], "version": 1, "hash": "x", "occurred_at": iso(),
                                   "place_type": "street", "people_count": 1, "outcome": "brief", "interest": "none"})
    stats.add_encounters(fresh_db, [clash["id"]])
    with fresh_db.atomic():
        statuses = [r["status"] for r in sync.process(fresh_db, user, some(20) + [clash], device_id="phone-0001")["results"]]
    assert statuses == ["created"] * 20 + ["rejected"]
    check()
    add_encounter(fresh_db, tools=["petition", "agora"], people_count=4)
    check()
    # Privacy erasure scrubs notes and removes contacts: the counts do not move, and stay exact.
    before = snapshot(fresh_db)
    with fresh_db.atomic():
        found = privacy.find(fresh_db, "resident@example.org")
        assert found["contacts"]
        privacy.erase(fresh_db, found, user_id=user["id"])
    assert snapshot(fresh_db) == before
    check()


def test_a_huge_number_or_a_lone_surrogate_is_rejected_alone_not_a_server_error(fresh_db):
    """Both parse as JSON; neither may turn the whole batch into a 500."""
    import json

    user = make_user(fresh_db)
    huge = json.loads(json.dumps(encounter(location={"lat": 0, "lon": 0})).replace('"lat": 0', '"lat": ' + "9" * 400))
    surrogate = json.loads(json.dumps(encounter(note="x")).replace('"note": "x"', '"note": "\\ud800"'))
    with fresh_db.atomic():
        results = sync.process(fresh_db, user, [huge, surrogate, encounter()], device_id="phone-0001")["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "created"]
    assert "data.location.lat" in results[0]["errors"] and "data" in results[1]["errors"]


def test_a_database_counted_by_the_old_triggers_stays_exact_after_m051(tmp_path):
    """Upgrade path: rows counted by m050's insert triggers, then m051, then new syncs and updates."""
    from outreach import migrations, refdata
    from outreach.db import connect

    db = connect(tmp_path / "old.db")
    migrations.migrations.apply(db, stop_before="m051_count_inserts_in_batches")
    refdata.seed(db)
    user = make_user(db)
    old = [encounter(tools=["petition", "agora"]), encounter(zone=None, tools=["votation"])]
    for e in old:  # as main wrote them: plain inserts, counted by the triggers
        d = e["data"]
        db["encounters"].insert({"id": e["id"], "version": 1, "hash": "h", "user_id": user["id"], "occurred_at": d["occurred_at"][:19] + "+00:00",
                                 "place_type": d["place_type"], "zone": d["zone"], "people_count": 2, "outcome": d["outcome"],
                                 "interest": d["interest"]})
        db["encounter_tools"].insert_all([{"encounter_id": e["id"], "tool": t} for t in d["tools"]])
    assert snapshot(db)["agg_tools"]
    migrations.apply(db)
    assert not db.execute("select name from sqlite_master where name in ('agg_encounters_insert', 'agg_tools_insert')").fetchall()
    with db.atomic():
        assert {r["status"] for r in sync.process(db, user, [encounter() for _ in range(30)], device_id="phone-0001")["results"]} == {"created"}
    with db.atomic():  # a correction of an old row: the update and delete triggers move its counts
        db["encounters"].update(old[0]["id"], {"zone": "secteur-5", "people_count": 7})
        db.execute("delete from encounter_tools where encounter_id = ? and tool = 'agora'", [old[0]["id"]])
    live = snapshot(db)
    with db.atomic():
        stats.rebuild(db)
    assert snapshot(db) == live
    db.close()
