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


def wait_until(condition, seconds: float = 10) -> bool:
    deadline = threading.Event()
    timer = threading.Timer(seconds, deadline.set)
    timer.start()
    try:
        while not condition():
            if deadline.wait(0.01):
                return condition()
        return True
    finally:
        timer.cancel()


def test_the_writer_never_checkpoints_inside_its_commit_a_thread_of_its_own_does(tmp_path):
    store = Store(tmp_path / "c.db")
    try:
        with store.write() as db:
            db.execute("create table blobs (b blob)")
            assert db.execute("pragma wal_autocheckpoint").fetchone()[0] == 0
        with store.write() as db:
            db.conn.executemany("insert into blobs values (?)", [(b"x" * 4000,) for _ in range(1500)])
        # The rows reach the database file itself (not only the log) without another write.
        assert wait_until(lambda: (tmp_path / "c.db").stat().st_size > 5_000_000)
        checkpointer = store._checkpointer._thread
        assert checkpointer.is_alive()
    finally:
        store.close()
    assert not checkpointer.is_alive()  # closing the store ends it


def test_with_litestream_beside_the_server_nothing_checkpoints(tmp_path):
    store = Store(tmp_path / "l.db", autocheckpoint=False)
    try:
        with store.write() as db:
            db.execute("create table blobs (b blob)")
            db.conn.executemany("insert into blobs values (?)", [(b"x" * 4000,) for _ in range(1500)])
        assert store._checkpointer is None
        assert (tmp_path / "l.db").stat().st_size < 1_000_000  # everything still in the log, for Litestream
    finally:
        store.close()


def test_rows_go_in_few_statements_and_padded_ones_store_only_the_real_rows(tmp_path):
    """insert_rows: a phone's full batch (100 rows) in one statement; ``pad`` puts up to 128 rows
    in one statement, the filler rows of nulls never stored; upserts add up as row by row."""
    from outreach.db import connect, insert_rows

    db = connect(tmp_path / "rows.db")
    db.execute("create table c (k text primary key, n integer not null)")
    head, tail = "insert into c (k, n)", "on conflict (k) do update set n = n + excluded.n"
    statements: list[str] = []
    db.conn.set_trace_callback(lambda sql: sql.startswith("insert") and statements.append(sql))
    assert insert_rows(db.conn, head, 2, [(f"k{i}", 1) for i in range(100)], tail) == 100
    assert len(statements) == 1
    statements.clear()
    assert insert_rows(db.conn, head, 2, [(f"k{i}", 2) for i in range(37)], tail, pad=True) == 37
    assert len(statements) == 1 and "column1 is not null" in statements[0]
    statements.clear()
    insert_rows(db.conn, head, 2, [(f"x{i}", 1) for i in range(300)], tail, pad=True)
    assert len(statements) == 3  # 128 + 128 + 44 filled up to 64
    db.conn.set_trace_callback(None)
    assert db.execute("select count(*), sum(n) from c").fetchone() == (400, 100 + 37 * 2 + 300)
    assert db.execute("select count(*) from c where k is null").fetchone() == (0,)
    assert dict(db.execute("select k, n from c where k in ('k0', 'k36', 'k37', 'x299')").fetchall()) == {
        "k0": 3, "k36": 3, "k37": 1, "x299": 1}
    db.close()
