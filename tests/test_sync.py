"""The sync protocol on its own (no HTTP): statuses, history, idempotency, validation of every field."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from outreach.field import bootstrap, sync
from outreach.db import Store

NOW = datetime.now(timezone.utc)


def iso(delta: timedelta = timedelta(0)) -> str:
    return (NOW + delta).astimezone(timezone(timedelta(hours=1))).isoformat(timespec="seconds")


def make_user(db, email="worker@example.org", role="field") -> dict:
    db["users"].insert({"email": email, "display_name": email.split("@")[0], "role": role, "password_hash": "x"})
    return dict(next(iter(db.query("select * from users where email = ?", [email]))))


@pytest.fixture
def worker(fresh_db):
    return make_user(fresh_db)


def encounter(**data) -> dict:
    base = {
        "occurred_at": iso(),
        "place_type": "market",
        "zone": "secteur-3",
        "people_count": 2,
        "outcome": "conversation",
        "tools": ["participatory_budget", "petition"],
        "interest": "curious",
        "note": "",
    }
    base.update(data)
    return {"id": str(uuid.uuid4()), "kind": "encounter", "version": 1, "created_at": iso(), "data": base}


def outing(**data) -> dict:
    base = {
        "zone": "secteur-1",
        "format": "market",
        "started_at": iso(-timedelta(hours=1)),
        "ended_at": None,
        "members": [],
        "tallies": {"petition": 3},
        "debrief": "",
    }
    base.update(data)
    return {"id": str(uuid.uuid4()), "kind": "outing", "version": 1, "created_at": iso(), "data": base}


def run(db, user, entries, **kw):
    with db.atomic():
        return sync.process(db, user, entries, device_id="phone-0001", app_version="test", **kw)["results"]


def test_new_entry_is_created_with_its_hash_and_history(fresh_db, worker):
    e = encounter()
    [result] = run(fresh_db, worker, [e])
    assert result["status"] == "created"
    assert result["hash"] == sync.content_hash(e["data"])
    row = fresh_db["encounters"].get(e["id"])
    assert row["people_count"] == 2 and row["user_id"] == worker["id"] and row["device_id"] == "phone-0001"
    tools = {r["tool"] for r in fresh_db.query("select tool from encounter_tools where encounter_id = ?", [e["id"]])}
    assert tools == {"participatory_budget", "petition"}
    assert [h["version"] for h in sync.history(fresh_db, e["id"])] == [1]
    assert fresh_db["devices"].get("phone-0001")["app_version"] == "test"


def test_replay_is_unchanged_and_writes_nothing(fresh_db, worker):
    e = encounter()
    first = run(fresh_db, worker, [e])[0]
    again = run(fresh_db, worker, [e])[0]
    assert again["status"] == "unchanged"
    assert again["received_at"] == first["received_at"] and again["hash"] == first["hash"]
    assert fresh_db["entry_versions"].count == 1 and fresh_db["encounters"].count == 1


def test_hash_ignores_key_order():
    assert sync.content_hash({"a": 1, "b": [1, 2]}) == sync.content_hash({"b": [1, 2], "a": 1})


def test_higher_version_updates_and_keeps_the_old_one(fresh_db, worker):
    e = encounter()
    run(fresh_db, worker, [e])
    e2 = dict(e, version=2, data=dict(e["data"], people_count=5, tools=["agora"]))
    [result] = run(fresh_db, worker, [e2])
    assert result["status"] == "updated"
    row = fresh_db["encounters"].get(e["id"])
    assert row["people_count"] == 5 and row["version"] == 2
    tools = [r["tool"] for r in fresh_db.query("select tool from encounter_tools where encounter_id = ?", [e["id"]])]
    assert tools == ["agora"]
    assert [h["version"] for h in sync.history(fresh_db, e["id"])] == [1, 2]


def test_same_version_other_content_is_a_conflict(fresh_db, worker):
    e = encounter()
    run(fresh_db, worker, [e])
    [result] = run(fresh_db, worker, [dict(e, data=dict(e["data"], people_count=9))])
    assert result["status"] == "conflict" and result["current_version"] == 1 and result["message"]
    assert fresh_db["encounters"].get(e["id"])["people_count"] == 2


def test_lower_version_is_a_conflict(fresh_db, worker):
    e = encounter()
    run(fresh_db, worker, [dict(e, version=3)])
    [result] = run(fresh_db, worker, [dict(e, version=2, data=dict(e["data"], people_count=7))])
    assert result["status"] == "conflict" and result["current_version"] == 3
    assert fresh_db["entry_versions"].count == 1


def test_another_author_cannot_update(fresh_db, worker):
    other = make_user(fresh_db, "other@example.org")
    e = encounter()
    run(fresh_db, worker, [e])
    [result] = run(fresh_db, other, [dict(e, version=2)])
    assert result["status"] == "conflict"
    assert fresh_db["encounters"].get(e["id"])["user_id"] == worker["id"]


def test_one_bad_entry_does_not_block_the_others(fresh_db, worker):
    good, bad, good2 = encounter(), encounter(people_count=0), encounter()
    results = run(fresh_db, worker, [good, bad, good2])
    assert [r["status"] for r in results] == ["created", "rejected", "created"]
    assert "data.people_count" in results[1]["errors"]
    assert fresh_db["encounters"].count == 2 and fresh_db["entry_versions"].count == 2


def test_duplicated_id_inside_one_batch_is_rejected(fresh_db, worker):
    e = encounter()
    results = run(fresh_db, worker, [e, dict(e, data=dict(e["data"], people_count=3))])
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert "id" in results[1]["errors"]
    assert fresh_db["encounters"].get(e["id"])["people_count"] == 2


def test_location_is_rounded_to_about_100_m(fresh_db, worker):
    e = encounter(location={"lat": 45.187654321, "lon": 5.724567891, "accuracy_m": 7.5})
    run(fresh_db, worker, [e])
    row = fresh_db["encounters"].get(e["id"])
    assert (row["lat"], row["lon"], row["accuracy_m"]) == (45.188, 5.725, 100)


def test_follow_up_goes_to_the_contact_table_only(fresh_db, worker):
    e = encounter(follow_up={
        "consent": True, "consent_text_version": "2026-01", "channel": "email",
        "contact": "resident@example.org", "name": "Awa", "purposes": ["agora"],
    })
    [result] = run(fresh_db, worker, [e])
    assert result["status"] == "created"
    contact = next(iter(fresh_db.query("select * from contacts where encounter_id = ?", [e["id"]])))
    assert contact["contact"] == "resident@example.org" and contact["consent_text_version"] == "2026-01"
    assert contact["expires_at"] > contact["consented_at"]
    row = fresh_db["encounters"].get(e["id"])
    assert "resident@example.org" not in repr(row)
    # A correction that withdraws the contact deletes it.
    run(fresh_db, worker, [dict(e, version=2, data=dict(e["data"], follow_up=None))])
    assert fresh_db["contacts"].count == 0


def test_hostile_text_is_stored_as_plain_text(fresh_db, worker):
    note = "<script>alert(1)</script>'; DROP TABLE encounters; --"
    e = encounter(note=note)
    [result] = run(fresh_db, worker, [e])
    assert result["status"] == "created"
    assert fresh_db["encounters"].get(e["id"])["note"] == note


def test_outing_is_stored_with_members_and_tallies(fresh_db, worker):
    mate = make_user(fresh_db, "mate@example.org")
    o = outing(members=[mate["id"]], tallies={"petition": 4, "agora": 0})
    [result] = run(fresh_db, worker, [o])
    assert result["status"] == "created"
    row = fresh_db["outings"].get(o["id"])
    assert row["status"] == "started" and row["created_by"] == worker["id"]
    members = {r["user_id"] for r in fresh_db.query("select user_id from outing_members where outing_id = ?", [o["id"]])}
    assert members == {worker["id"], mate["id"]}
    # The teammate ends it with a debrief: a member may update. Their entry carries the taps
    # counted on their own phone, which add to the worker's.
    ended = dict(o, version=2, data=dict(o["data"], ended_at=iso(), debrief="Bon accueil", tallies={"petition": 6}))
    [result] = run(fresh_db, mate, [ended])
    assert result["status"] == "updated"
    row = fresh_db["outings"].get(o["id"])
    assert row["status"] == "ended" and row["debrief"] == "Bon accueil"
    assert tallies(fresh_db, o["id"]) == {"petition": 10, "agora": 0}


def tallies(db, outing_id) -> dict:
    return {r["tool"]: r["count"] for r in db.query("select tool, count from outing_tallies where outing_id = ?", [outing_id])}


def test_teammates_counting_one_planned_outing_offline_lose_no_tap(fresh_db, worker):
    """Two phones join the same planned outing with no network and tally on their own; the
    second gets a conflict (same version), sends again, and the outing counts both phones."""
    mate = make_user(fresh_db, "mate@example.org")
    planned = str(uuid.uuid4())
    fresh_db["outings"].insert({"id": planned, "format": "stand", "status": "planned", "zone": "secteur-2",
                                "planned_date": NOW.date().isoformat(), "created_by": worker["id"]})
    fresh_db["outing_members"].insert_all([{"outing_id": planned, "user_id": u["id"]} for u in (worker, mate)])

    def send(user, device, version, counts, **extra):
        entry = outing(tallies=counts, members=[worker["id"], mate["id"]], **extra)
        entry.update(id=planned, version=version)
        with fresh_db.atomic():
            return sync.process(fresh_db, user, [entry], device_id=device)["results"][0]

    assert send(worker, "phone-aaaa", 1, {"petition": 3})["status"] == "created"
    assert send(mate, "phone-bbbb", 1, {"petition": 2, "agora": 1})["status"] == "conflict"
    assert tallies(fresh_db, planned) == {"petition": 3}
    assert send(mate, "phone-bbbb", 2, {"petition": 2, "agora": 1})["status"] == "updated"
    assert tallies(fresh_db, planned) == {"petition": 5, "agora": 1}
    # The worker keeps counting (their phone's total is now 4) and ends the outing.
    assert send(worker, "phone-aaaa", 3, {"petition": 4}, ended_at=iso(), debrief="Deux stands")["status"] == "updated"
    assert tallies(fresh_db, planned) == {"petition": 6, "agora": 1}
    assert fresh_db["outings"].get(planned)["status"] == "ended"


def test_planned_outing_is_started_by_its_member(fresh_db, worker):
    coordinator = make_user(fresh_db, "coord@example.org", "coordinator")
    planned = str(uuid.uuid4())
    fresh_db["outings"].insert({"id": planned, "format": "stand", "status": "planned", "zone": "secteur-2",
                                "planned_date": NOW.date().isoformat(), "created_by": coordinator["id"]})
    fresh_db["outing_members"].insert({"outing_id": planned, "user_id": worker["id"]})
    assert [o["id"] for o in bootstrap.for_user(fresh_db, worker)["outings"]] == [planned]
    o = outing(format="stand", zone="secteur-2")
    o["id"] = planned
    [result] = run(fresh_db, worker, [o])
    assert result["status"] == "created"
    row = fresh_db["outings"].get(planned)
    assert row["status"] == "started" and row["created_by"] == coordinator["id"]


def test_sixteen_threads_posting_overlapping_batches_leave_one_row_per_id(tmp_path):
    from outreach import migrations, refdata

    store = Store(tmp_path / "race.db")
    with store.write() as db:
        migrations.apply(db)
        refdata.seed(db)
        user = make_user(db)
    pool = [encounter() for _ in range(60)]
    errors = []

    def worker_thread(i):
        try:
            batch = pool[i * 3: i * 3 + 30]  # overlaps its neighbours
            for _ in range(2):
                with store.write() as db:
                    results = sync.process(db, user, batch, device_id=f"device-{i:04d}")["results"]
                assert all(r["status"] in ("created", "unchanged") for r in results), results
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker_thread, args=(i,)) for i in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    db = store.db()
    assert db["encounters"].count == 60
    assert db["entry_versions"].count == 60
    store.close()


# --- rejected input, field by field -------------------------------------------------------

BAD_ENCOUNTER = [
    ("occurred_at", "yesterday"),
    ("occurred_at", "2026-11-30T10:00:00"),  # no offset
    ("occurred_at", iso(timedelta(hours=30))),
    ("occurred_at", iso(-timedelta(days=400))),
    ("occurred_at", 1700000000),
    ("outing_id", "not-a-uuid"),
    ("outing_id", "../../etc/passwd"),
    ("place_type", "castle"),
    ("place_type", None),
    ("place_type", ["market"]),
    ("zone", "secteur-99"),
    ("zone", "'; DROP TABLE zones; --"),
    ("location", {"lat": 91, "lon": 5}),
    ("location", {"lat": "45", "lon": 5}),
    ("location", {"lat": 45, "lon": 5, "altitude": 3}),
    ("location", [45, 5]),
    ("people_count", 0),
    ("people_count", 201),
    ("people_count", 10**30),
    ("people_count", -1),
    ("people_count", "3"),
    ("people_count", 2.5),
    ("people_count", True),
    ("outcome", "great"),
    ("outcome", "<b>conversation</b>"),
    ("tools", ["unknown_tool"]),
    ("tools", ["petition", "petition"]),
    ("tools", "petition"),
    ("tools", [1, 2]),
    ("interest", "very"),
    ("audience", {"age_band": "ancient"}),
    ("audience", {"language": "<script>"}),
    ("audience", "adults"),
    ("note", "x" * 10_000),
    ("note", 42),
    ("note", "bad\x00byte"),
    ("follow_up", {"consent": "yes", "consent_text_version": "2026-01", "channel": "email", "contact": "a@b.org"}),
    ("follow_up", {"consent": 1, "consent_text_version": "2026-01", "channel": "email", "contact": "a@b.org"}),
    ("follow_up", {"consent": True, "consent_text_version": "1999", "channel": "email", "contact": "a@b.org"}),
    ("follow_up", {"consent": True, "consent_text_version": "2026-01", "channel": "fax", "contact": "a@b.org"}),
    ("follow_up", {"consent": True, "consent_text_version": "2026-01", "channel": "email", "contact": "not an email"}),
    ("follow_up", {"consent": True, "consent_text_version": "2026-01", "channel": "sms", "contact": "call me"}),
    ("follow_up", "resident@example.org"),
    ("extra_field", 1),
]


@pytest.mark.parametrize("field,value", BAD_ENCOUNTER, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_ENCOUNTER)])
def test_bad_encounter_field_is_rejected_and_named(fresh_db, worker, field, value):
    e = encounter(**{field: value})
    [result] = run(fresh_db, worker, [e])
    assert result["status"] == "rejected"
    assert any(k.startswith("data." + field) for k in result["errors"]), result["errors"]
    assert fresh_db["encounters"].count == 0 and fresh_db["entry_versions"].count == 0
    assert fresh_db["contacts"].count == 0


@pytest.mark.parametrize("field", ["occurred_at", "place_type", "outcome"])
def test_required_encounter_field(fresh_db, worker, field):
    e = encounter()
    del e["data"][field]
    [result] = run(fresh_db, worker, [e])
    assert result["status"] == "rejected" and "data." + field in result["errors"]


BAD_OUTING = [
    ("zone", "nowhere"),
    ("format", "party"),
    ("format", None),
    ("started_at", "10:00"),
    ("started_at", iso(timedelta(days=3))),
    ("ended_at", iso(-timedelta(hours=5))),  # before the start
    ("ended_at", "soon"),
    ("members", [999999]),
    ("members", ["1"]),
    ("members", [1, 1]),
    ("members", "everyone"),
    ("tallies", {"petition": -1}),
    ("tallies", {"petition": 1.5}),
    ("tallies", {"petition": 10**12}),
    ("tallies", {"nope": 1}),
    ("tallies", [1, 2]),
    ("debrief", "x" * 2001),
    ("debrief", {"text": "x"}),
    ("colour", "red"),
]


@pytest.mark.parametrize("field,value", BAD_OUTING, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_OUTING)])
def test_bad_outing_field_is_rejected_and_named(fresh_db, worker, field, value):
    o = outing(**{field: value})
    [result] = run(fresh_db, worker, [o])
    assert result["status"] == "rejected"
    assert any(k.startswith("data." + field) for k in result["errors"]), result["errors"]
    assert fresh_db["outings"].count == 0 and fresh_db["entry_versions"].count == 0


BAD_ENTRY = [
    ("id", "1234"),
    ("id", "8a3e-not-uuid"),
    ("id", None),
    ("id", 12),
    ("kind", "gossip"),
    ("kind", None),
    ("version", 0),
    ("version", "1"),
    ("version", 10**20),
    ("version", True),
    ("created_at", "now"),
    ("data", "text"),
    ("data", None),
]


@pytest.mark.parametrize("field,value", BAD_ENTRY, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_ENTRY)])
def test_bad_entry_envelope_is_rejected(fresh_db, worker, field, value):
    e = encounter()
    e[field] = value
    [result] = run(fresh_db, worker, [e])
    assert result["status"] == "rejected" and field in result["errors"]
    assert fresh_db["entry_versions"].count == 0


def test_entry_that_is_not_an_object_is_rejected(fresh_db, worker):
    results = run(fresh_db, worker, ["text", 3, None, encounter()])
    assert [r["status"] for r in results] == ["rejected"] * 3 + ["created"]


@pytest.mark.parametrize("body", [[], "x", {"entries": "x"}, {"entries": [], "device_id": "a b"},
                                  {"entries": [], "device_id": "x" * 100}, {"entries": [], "other": 1},
                                  {"entries": [], "app_version": 3}])
def test_bad_envelope_is_a_request_error(body):
    with pytest.raises(sync.RequestError) as info:
        sync.check_envelope(body)
    assert info.value.status == 400 and info.value.message


def test_too_many_entries_is_413():
    with pytest.raises(sync.RequestError) as info:
        sync.check_envelope({"entries": [{}] * 501})
    assert info.value.status == 413


def test_a_version_stored_by_another_process_meanwhile_is_answered_as_a_replay(fresh_db, worker, monkeypatch):
    # Another process stores the same entries between our read of the history and our write:
    # the unique key refuses the second copy and the batch falls back to one-by-one answers.
    first, second = encounter(), encounter()
    run(fresh_db, worker, [first])
    real = sync._histories
    calls = []

    def stale_first_read(db, ids):
        calls.append(ids)
        return {} if len(calls) == 1 else real(db, ids)

    monkeypatch.setattr(sync, "_histories", stale_first_read)
    results = run(fresh_db, worker, [first, second])
    assert [r["status"] for r in results] == ["unchanged", "created"]
    assert fresh_db["entry_versions"].count == 2 and fresh_db["encounters"].count == 2


def test_an_id_already_used_by_other_data_is_rejected_alone(fresh_db, worker):
    clash, fine = encounter(), encounter()
    fresh_db["encounters"].insert({"id": clash["id"], "version": 1, "hash": "x", "occurred_at": iso(),
                                   "place_type": "street", "people_count": 1, "outcome": "brief", "interest": "none"})
    results = run(fresh_db, worker, [clash, fine])
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert fresh_db["entry_versions"].count == 1
