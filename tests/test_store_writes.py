"""The Store's writes: one writer connection, and group commit of the writes that wait for it."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from outreach.db import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    with s.write() as db:
        db.execute("create table t (n integer primary key)")
    yield s
    s.close()


def stored(store) -> set[int]:
    return {n for (n,) in store.db().execute("select n from t")}


def queued_behind_a_held_lock(store, calls) -> dict:
    """Start one thread per call while a write is held, so that they all wait and share one group."""
    answers: dict = {}

    def run(i, fn):
        try:
            answers[i] = store.write_grouped(fn)
        except Exception as error:
            answers[i] = error

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    with store.write():
        for t in threads:
            t.start()
        while len(store._queue) < len(calls):
            threading.Event().wait(0.001)
    for t in threads:
        t.join()
    return answers


def insert(n):
    def call(db):
        db.execute("insert into t (n) values (?)", [n])
        return n
    return call


def test_each_caller_gets_its_own_answer_and_every_row_is_stored(store):
    answers = queued_behind_a_held_lock(store, [insert(n) for n in range(12)])
    assert answers == {n: n for n in range(12)}
    assert stored(store) == set(range(12))


def test_a_call_that_fails_is_undone_alone(store):
    def fails(db):
        db.execute("insert into t (n) values (99)")
        raise ValueError("refused")

    answers = queued_behind_a_held_lock(store, [insert(1), fails, insert(2)])
    assert isinstance(answers[1], ValueError)
    assert answers[0] == 1 and answers[2] == 2
    assert stored(store) == {1, 2}


def test_an_error_that_ends_the_transaction_fails_the_whole_group(store):
    def disk_full(db):
        db.execute("insert into t (n) values (99)")
        db.conn.rollback()  # what SQLite does on SQLITE_FULL: the whole transaction is gone
        raise sqlite3.OperationalError("database or disk is full")

    answers = queued_behind_a_held_lock(store, [insert(1), disk_full, insert(2)])
    assert all(isinstance(a, sqlite3.OperationalError) for a in answers.values()), answers
    assert stored(store) == set()
    assert store.write_grouped(insert(3)) == 3  # the writer is usable again
    assert stored(store) == {3}


def test_reads_through_db_see_a_write_once_committed(store):
    reader = store.db()
    with store.write() as db:
        db.execute("insert into t (n) values (5)")
        assert db.execute("select count(*) from t").fetchone()[0] == 1
        # Another connection: the write is not committed yet.
        assert reader.execute("select count(*) from t").fetchone()[0] == 0
    assert reader.execute("select count(*) from t").fetchone()[0] == 1
