"""Bootstrap's version in every sync answer, kept per user until something bootstrap shows changes.

The server keeps each user's version under a counter that every write to the tables bootstrap
reads moves (triggers). The kept version must always be the one a fresh build gives: so bootstrap
may read no table the counter does not watch, and every watched table moves it.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date

import pytest

from outreach.field import bootstrap
from outreach.migrations import BOOTSTRAP_TABLES
from tests.test_field_two_way import plan_for


def generation(db) -> int:
    return db.execute("select n from bootstrap_generation").fetchone()[0]


def test_bootstrap_reads_only_tables_the_counter_watches(store, make_user):
    worker = make_user("field")
    plan_for(store, worker["id"])
    with store.write() as db:
        db.execute("insert into outing_cancellations (outing_id, zone, format, planned_date, members, cancelled_at) "
                   "values (?, 'secteur-1', 'market', ?, ?, ?)", [str(uuid.uuid4()), date.today().isoformat(),
                                                                  f"[{worker['id']}]", "2026-12-01T10:00:00+00:00"])
    db = store.db()
    read: set[str] = set()

    def watch(action, table, column, database, trigger):
        if action == sqlite3.SQLITE_READ and table:
            read.add(table)
        return sqlite3.SQLITE_OK

    db.conn.set_authorizer(watch)
    try:
        data = bootstrap.for_user(db, worker, "fr")
    finally:
        db.conn.set_authorizer(None)
    assert data["outings"] and data["cancelled_outings"]  # every part of bootstrap was read
    # json_each is a function, not a table; sqlite_master is read when a statement is first prepared.
    assert read and read <= set(BOOTSTRAP_TABLES) | {"json_each", "sqlite_master"}


@pytest.mark.parametrize("table", BOOTSTRAP_TABLES)
def test_every_write_to_a_watched_table_moves_the_counter(store, table):
    db = store.db()
    names = {r[0] for r in db.execute("select name from sqlite_master where type = 'trigger' and tbl_name = ?", [table])}
    assert {f"bootstrap_generation_{table}_{event}" for event in ("insert", "update", "delete")} <= names
    with store.write() as w:
        before = generation(w)
        w.execute(f"insert into [{table}] select * from [{table}] where false")  # no row: no move
        assert generation(w) == before


def test_the_kept_version_is_the_fresh_one_and_moves_with_what_bootstrap_shows(store, make_user):
    worker = make_user("field")
    versions = bootstrap.Versions()
    db = store.db()
    first = versions.get(db, worker, "fr")
    assert first == bootstrap.version(bootstrap.for_user(db, worker, "fr"))
    assert versions.get(db, worker, "fr") == first
    assert versions.get(db, worker, "en") == bootstrap.version(bootstrap.for_user(db, worker, "en")) != first
    with store.write() as w:
        w.execute("update zones set label_fr = 'Centre-ville' where code = 'secteur-1'")
    renamed = versions.get(db, worker, "fr")
    assert renamed != first and renamed == bootstrap.version(bootstrap.for_user(db, worker, "fr"))
    plan_for(store, worker["id"])
    planned = versions.get(db, worker, "fr")
    assert planned != renamed and planned == bootstrap.version(bootstrap.for_user(db, worker, "fr"))
