"""Replays: a phone that lost an answer sends the same entries again and gets its receipts.

A stored version passed every check when it arrived and never changes, so a replay of it (same
id, version, content and author) is answered 'unchanged' from the stored row, before any rule
runs: a rule that moved since (a zone retired) does not turn a receipt into a rejection, and a
sync made only of replays takes no write transaction (it waits for no other phone's writes).
"""

from __future__ import annotations

from datetime import timedelta

from outreach.field import sync
from tests.test_sync import encounter, iso, make_user, outing, run, worker  # noqa: F401 (worker: a fixture)
from tests.test_sync_api import post


def test_a_replay_is_unchanged_even_after_a_rule_moved(fresh_db, worker):
    e = encounter(zone="secteur-3")
    first = run(fresh_db, worker, [e])[0]
    fresh_db.execute("update zones set active = 0 where code = 'secteur-3'")
    assert run(fresh_db, worker, [encounter(zone="secteur-3")])[0]["status"] == "rejected"  # new entries: checked
    again = run(fresh_db, worker, [e])[0]
    assert again == {"id": e["id"], "status": "unchanged", "hash": first["hash"], "received_at": first["received_at"]}
    assert fresh_db["entry_versions"].count == 1


def test_only_the_same_content_version_and_author_is_a_replay(fresh_db, worker):
    e, o = encounter(), outing()
    run(fresh_db, worker, [e, o])
    other = dict(e, data=dict(e["data"], people_count=3))
    results = run(fresh_db, worker, [other, dict(o, version=2, data=dict(o["data"], debrief="done"))])
    assert [r["status"] for r in results] == ["conflict", "updated"]
    someone_else = make_user(fresh_db, "other@example.org")
    assert run(fresh_db, someone_else, [e])[0]["status"] == "conflict"


def test_a_replay_repeated_inside_one_batch_is_named_once(fresh_db, worker):
    e = encounter()
    run(fresh_db, worker, [e])
    first, second = run(fresh_db, worker, [e, dict(e, id=e["id"].upper())])
    assert first["status"] == "unchanged"
    assert second["status"] == "rejected" and "id" in second["errors"]


def test_a_sync_of_replays_only_takes_no_write_transaction(field_client, store, monkeypatch):
    entries = [encounter() for _ in range(3)]
    assert [r["status"] for r in post(field_client, entries).json()["results"]] == ["created"] * 3

    def no_write(fn):
        raise AssertionError("a replay took the writer")

    monkeypatch.setattr(store, "write_grouped", no_write)
    body = post(field_client, entries).json()
    assert [r["status"] for r in body["results"]] == ["unchanged"] * 3
    assert body["bootstrap_version"]


def test_a_device_not_seen_lately_is_recorded_even_by_a_sync_of_replays(field_client, store):
    e = encounter()
    post(field_client, [e])
    with store.write() as db:
        db.execute("update devices set last_seen = ?", [iso(-timedelta(hours=2))])
    assert post(field_client, [e]).json()["results"][0]["status"] == "unchanged"
    assert sync.parse_time(store.db()["devices"].get("phone-test-01")["last_seen"]) > sync.parse_time(iso(-timedelta(minutes=5)))
    # A new app version is recorded at once.
    field_client.post("/api/v1/sync", json={"device_id": "phone-test-01", "app_version": "1.1", "entries": [e]})
    assert store.db()["devices"].get("phone-test-01")["app_version"] == "1.1"


def test_a_device_seen_a_moment_ago_is_not_written_again_but_a_new_user_or_version_is(store, field_client):
    """The device's record is written once a minute at most (DEVICE_SEEN_EVERY), not by every sync,
    unless what it says changes: another user on the phone, another app version."""
    body = {"device_id": "phone-test-02", "app_version": "1.0"}
    assert field_client.post("/api/v1/sync", json={**body, "entries": [encounter()]}).status_code == 200
    first = store.db()["devices"].get("phone-test-02")
    assert field_client.post("/api/v1/sync", json={**body, "entries": [encounter()]}).status_code == 200
    assert store.db()["devices"].get("phone-test-02")["last_seen"] == first["last_seen"]
    assert field_client.post("/api/v1/sync", json={**body, "app_version": "1.1", "entries": [encounter()]}).status_code == 200
    assert store.db()["devices"].get("phone-test-02")["app_version"] == "1.1"
    with store.write() as db:
        db.execute("update devices set last_seen = ?", [iso(-timedelta(minutes=2))])
    assert field_client.post("/api/v1/sync", json={**body, "app_version": "1.1", "entries": [encounter()]}).status_code == 200
    seen = sync.parse_time(store.db()["devices"].get("phone-test-02")["last_seen"])
    assert seen > sync.parse_time(iso(-timedelta(minutes=1)))
