"""Several phones' batches written at once (``sync.write_batches``, the group commit's ``together``).

Written together, the batches must leave exactly what writing them one after the other leaves
(every version, encounter, count and device record) and get the same answers; anything but new
encounters with nothing stored under their ids goes one by one, where each entry is compared
with its history.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from outreach import migrations, refdata
from outreach.db import Store
from outreach.field import sync
from tests.test_sync import NOW, encounter, iso, make_user, outing

TABLES = {
    "entry_versions": "entry_id, kind, version, hash, data, user_id, device_id, created_at, received_at",
    "encounters": "*",
    "agg_encounters": "*",
    "agg_tools": "*",
    "agg_ages": "*",
    "devices": "*",
    "contacts": "encounter_id, user_id, channel, contact, name, purposes, consent_text_version",
}


@pytest.fixture
def stores(tmp_path):
    made = []

    def make(name: str) -> tuple[Store, list[dict]]:
        store = Store(tmp_path / f"{name}.db")
        with store.write() as db:
            migrations.apply(db)
            refdata.seed(db)
            people = [make_user(db, f"worker{i}@example.org") for i in range(3)]
        made.append(store)
        return store, people

    yield make
    for store in made:
        store.close()


def varied_encounters(rng: random.Random, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        data = {"zone": rng.choice(["secteur-1", "secteur-2", "secteur-3", None]),
                "people_count": rng.randint(1, 6),
                "tools": rng.sample(["participatory_budget", "petition", "citizen_council", "agora"], rng.randint(0, 3)),
                "occurred_at": iso(-timedelta(minutes=rng.randint(0, 3000)))}
        if rng.random() < 0.5:
            data["audience"] = {"age_band": rng.choice(["under_18", "18_29", "65_plus"]), "language": None}
        out.append(encounter(**data))
    return out


def prepared(store: Store, people: list[dict], plans: list[list[dict]]) -> list[sync.Batch]:
    return [sync.prepare(store.db(), people[i % len(people)], entries, device_id=f"phone-{i:04d}", app_version="t",
                         now=NOW) for i, entries in enumerate(plans)]


def contents(store: Store) -> dict:
    db = store.db()
    return {table: sorted(map(tuple, db.execute(f"select {columns} from {table}").fetchall()), key=repr)
            for table, columns in TABLES.items()}


def one_by_one(store: Store, batches: list[sync.Batch]) -> list[dict]:
    answers = []
    for batch in batches:
        with store.write() as db:
            answers.append(sync.write_batch(db, batch))
    return answers


def test_batches_written_together_leave_what_one_after_the_other_leaves(stores):
    rng = random.Random(11)
    plans = [varied_encounters(rng, n) for n in (100, 37, 100, 1, 64)]
    (apart, apart_people), (together, together_people) = stores("apart"), stores("together")
    expected = one_by_one(apart, prepared(apart, apart_people, plans))
    with together.write() as db:
        answers = sync.write_batches(db, prepared(together, together_people, plans))
    assert answers == expected
    assert all(r["status"] == "created" for answer in answers for r in answer["results"])
    assert contents(together) == contents(apart)
    # And the summaries are those a rebuild from the rows gives.
    from outreach.coordinator import stats
    before = contents(together)
    with together.write() as db:
        stats.rebuild(db)
    assert contents(together) == before


def rejected_and_new(rng):
    bad = encounter(zone="secteur-99")
    return [bad] + varied_encounters(rng, 3)


def test_rejected_entries_keep_their_answer_beside_the_ones_written_together(stores):
    rng = random.Random(5)
    plans = [rejected_and_new(rng), varied_encounters(rng, 4)]
    (apart, p1), (together, p2) = stores("apart"), stores("together")
    expected = one_by_one(apart, prepared(apart, p1, plans))
    with together.write() as db:
        answers = sync.write_batches(db, prepared(together, p2, plans))
    assert answers == expected and answers[0]["results"][0]["status"] == "rejected"
    assert contents(together) == contents(apart)


def stored_already(store, people):
    e = encounter()
    with store.write() as db:
        sync.process(db, people[0], [e], device_id="phone-0000")
    return e


CANNOT = {
    "an id in two batches": lambda store, people: ([encounter()], None),
    "an id and version stored with other content": lambda store, people: (
        [(lambda e: dict(e, data=dict(e["data"], people_count=5)))(stored_already(store, people))], None),
    "an outing": lambda store, people: ([outing()], None),
    "a contact left for a follow-up": lambda store, people: ([encounter(follow_up={
        "consent": True, "consent_text_version": "2026-01", "channel": "email",
        "contact": "resident@example.org", "name": "Awa", "purposes": ["agora"]})], None),
    "a newer version": lambda store, people: ([dict(stored_already(store, people), version=2)], None),
}


@pytest.mark.parametrize("case", CANNOT)
def test_what_cannot_go_together_writes_nothing_and_goes_one_by_one(stores, case):
    store, people = stores("s")
    entries, _ = CANNOT[case](store, people)
    plans = [entries + [encounter()], [encounter()] + (entries if case == "an id in two batches" else [])]
    batches = prepared(store, people, plans)
    before = contents(store)
    with store.write() as db:
        assert sync.write_batches(db, batches) is None
    assert contents(store) == before
    answers = one_by_one(store, batches)  # what the Store then does: each entry compared with its history
    statuses = [r["status"] for answer in answers for r in answer["results"]]
    assert "rejected" not in statuses, answers
    if "other content" in case:
        assert statuses[0] == "conflict"
    if case == "a newer version":
        assert statuses[0] == "updated"


def test_a_version_stored_meanwhile_undoes_the_write_and_each_batch_answers_alone(stores, monkeypatch):
    store, people = stores("s")
    plans = [[encounter(), encounter()], [encounter()]]
    batches = prepared(store, people, plans)
    taken = batches[0].ready[1]
    # Another process stores one of these versions, unseen by the history read (the race the
    # unique key settles): the rows written together are undone, then each batch goes alone.
    with store.write() as db:
        sync.process(db, people[0], [plans[0][1]], device_id="phone-0000", now=NOW)
    monkeypatch.setattr(sync, "_histories", lambda db, ids: {})
    errors = {}

    def go(i):
        try:
            errors[i] = store.write_grouped(lambda db: sync.write_batch(db, batches[i]),
                                            together=sync.write_batches, item=batches[i])
        except Exception as error:  # noqa: BLE001 - asserted below
            errors[i] = error

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    with store.write():
        for t in threads:
            t.start()
        while len(store._queue) < 2:
            threading.Event().wait(0.001)
    for t in threads:
        t.join()
    monkeypatch.undo()
    statuses = {r["id"]: r["status"] for answer in errors.values() for r in answer["results"]}
    assert statuses[taken.id] in ("unchanged", "conflict")
    assert [statuses[e["id"]] for e in (plans[0][0], plans[1][0])] == ["created", "created"]
    db = store.db()
    assert db.execute("select count(*), count(distinct entry_id) from entry_versions").fetchone() == (3, 3)
    assert db["encounters"].count == 3


def test_phones_syncing_at_once_through_the_server_store_everything_once(app, make_user):
    """Eight workers post at once, each batch then its replay (their batches meet in the writer's groups)."""
    from tests.conftest import signed_in_client
    from tests.test_sync_api import post

    rng = random.Random(3)
    clients = [signed_in_client(app, make_user("field")) for _ in range(8)]
    plans = [[varied_encounters(rng, 25) for _ in range(4)] for _ in clients]
    answers: dict = {}

    def phone(i):
        answers[i] = [post(clients[i], batch).json() for batch in plans[i] * 2]

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(len(clients))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for c in clients:
        c.__exit__(None, None, None)
    for i in range(len(clients)):
        statuses = [r["status"] for a in answers[i] for r in a["results"]]
        assert statuses == ["created"] * 100 + ["unchanged"] * 100, (i, answers[i][:1])
    db = app.state.store.db()
    assert db.execute("select count(*), count(distinct entry_id) from entry_versions").fetchone() == (800, 800)
    assert db["encounters"].count == 800
    assert db.execute("select sum(n) from agg_encounters where dim = 'all'").fetchone()[0] == 800
