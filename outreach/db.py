"""Open the SQLite database: WAL, foreign keys, one connection per thread, one writer at a time."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import sqlite_utils

from . import localtime

T = TypeVar("T")


WRITER_CACHE_KIB = 16 * 1024  # the writer's page cache (SQLite's default is 2 MB): hot index pages stay in memory;
# 8 and 200 MB measured the same as 32 MB on a 40 MB database (the OS cache serves a miss cheaply),
# and the server's memory budget is tight (150 MB)


def connect(path: Path | str, *, busy_timeout: float = 30, autocheckpoint: bool = True,
            cache_kib: int | None = None) -> sqlite_utils.Database:
    """Open one connection with the pragmas every connection needs.

    ``autocheckpoint=False`` leaves WAL checkpoints to Litestream, as its documentation asks
    of applications it replicates (only set it when Litestream runs beside the server, or the
    WAL grows without bound). ``cache_kib``: a page cache larger than SQLite's 2 MB default.
    """
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=busy_timeout)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    if not autocheckpoint:
        db.execute("PRAGMA wal_autocheckpoint=0")
    if cache_kib:
        db.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
    # Local days: the aggregate triggers and the reads call local_day() in the city's zone.
    localtime.install(db)
    return db


class Store:
    """The application's database handle.

    Starlette runs plain ``def`` views in a thread pool, and a sqlite3
    connection must not be used by two threads at once, so each thread gets its
    own connection for reads. Writes inside this process take one lock, so two
    requests never fight over SQLite's write lock (no ``database is locked``
    under load), and go through one long-lived writer connection with a large
    page cache: whichever thread writes, the indexes' pages are already in
    memory. A read through ``db()`` inside ``write()`` is another connection: it
    does not see the transaction's uncommitted rows (read through the ``db``
    that ``write()`` yields).
    """

    def __init__(self, path: Path | str, *, busy_timeout: float = 30, autocheckpoint: bool = True):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.autocheckpoint = autocheckpoint
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite_utils.Database] = []
        self._all_lock = threading.Lock()
        self._writer: sqlite_utils.Database | None = None
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()
        self._checkpointer = _Checkpointer(self.path, busy_timeout, self._write_lock) if autocheckpoint else None

    def db(self) -> sqlite_utils.Database:
        """This thread's connection, for reads (writes go through ``write()``)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path, busy_timeout=self.busy_timeout, autocheckpoint=self.autocheckpoint)
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction, alone among this process's writers; rolled back on error (or a failed COMMIT)."""
        with self._write_lock:
            db = self._writer
            if db is None:
                # No automatic checkpoint inside the writer's COMMIT: the checkpointer does them.
                db = self._writer = connect(self.path, busy_timeout=self.busy_timeout, autocheckpoint=False,
                                            cache_kib=WRITER_CACHE_KIB)
                db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                # Savepoints (each grouped call, each batch) keep the pages they change in a
                # statement journal, which SQLite otherwise writes to a new file in /var/tmp:
                # 190 write calls and a file created and deleted for every sync of 100 entries.
                # In memory, it is at most the pages one write changes (a few MB for 500 entries).
                db.execute("PRAGMA temp_store=MEMORY")
                with self._all_lock:
                    self._all.append(db)
            outermost = not db.conn.in_transaction  # a write() inside a write() is a savepoint
            try:
                with db.atomic():
                    yield db
                if outermost and self._checkpointer is not None:
                    self._checkpointer.committed()
            except BaseException:
                # A COMMIT that failed (disk full, I/O error) may leave the transaction open;
                # the next write on the writer connection must not nest inside it.
                if outermost and db.conn.in_transaction:
                    try:
                        db.conn.rollback()
                    except sqlite3.Error:
                        pass
                raise

    def write_grouped(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """``fn(db)`` in a write transaction it may share with other threads' waiting calls (group commit).

        Under load, requests queue for the one writer; whoever takes the lock runs every call
        waiting by then, each in its own savepoint, and commits them together: one COMMIT and
        one lock hand-over for several requests, and the pages they share written once. A call
        that raises has its savepoint rolled back alone and gets its exception; a failed COMMIT
        is every call's exception (nothing of theirs is stored).
        """
        job = _Job(fn)
        with self._queue_lock:
            self._queue.append(job)
        with self._write_lock:
            if not job.done:
                with self._queue_lock:
                    jobs, self._queue = self._queue, []
                self._run_group(jobs)
        if job.error is not None:
            raise job.error
        return job.result

    def _run_group(self, jobs: list["_Job"]) -> None:
        try:
            with self.write() as db:
                for job in jobs:
                    try:
                        with savepoint(db.conn, "job"):
                            job.result = job.fn(db)
                    except Exception as error:  # this call's own failure: its savepoint is undone
                        job.error = error
                        if not db.conn.in_transaction:  # the error ended the whole transaction (disk full…)
                            raise
        except BaseException as error:
            for job in jobs:
                if job.error is None:
                    job.error, job.result = error, None
            if not isinstance(error, Exception):
                raise
        finally:
            for job in jobs:
                job.done = True

    def zone_changed(self) -> None:
        """The city's zone was just set (``localtime.configure``): the connections opened before it
        (the migrations', on the thread that starts the server) count days in it too."""
        with self._all_lock:
            for db in self._all:
                localtime.install(db)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._all_lock:
            for db in self._all:
                try:
                    db.close()
                except sqlite3.ProgrammingError:
                    pass  # closed by another thread's exit already
            self._all.clear()
        self._local = threading.local()
        self._writer = None


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    """A savepoint under a fixed name (``db.atomic()`` names each one anew, a statement prepared every time).

    Rolled back on error, unless the error ended the whole transaction; SQLite allows the same
    name nested (ROLLBACK TO and RELEASE find the innermost).
    """
    conn.execute(f'SAVEPOINT "{name}"')
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute(f'ROLLBACK TO SAVEPOINT "{name}"')
            conn.execute(f'RELEASE SAVEPOINT "{name}"')
        raise
    conn.execute(f'RELEASE SAVEPOINT "{name}"')


class _Job:
    """One call waiting for the writer (``Store.write_grouped``)."""

    __slots__ = ("fn", "result", "error", "done")

    def __init__(self, fn: Callable):
        self.fn = fn
        self.result = None
        self.error: BaseException | None = None
        self.done = False


WAL_SIZE_LIMIT = 64 * 1024 * 1024  # once checkpointed, a larger log file is truncated back to this


class _Checkpointer:
    """Passive WAL checkpoints on a thread of their own, shortly after commits.

    A PASSIVE checkpoint copies what it can without waiting for readers or writers, so the writer
    keeps committing meanwhile (and sqlite3 releases the GIL while it copies). But the log starts
    over only when a write begins after a checkpoint that left nothing behind, which under steady
    writes never happens: the log grew past 200 MB in a minute of ingest. So each round ends with
    a second pass under the writers' lock, copying only what was committed during the first
    (a few milliseconds), and the next write starts the log over. ``PAUSE`` gathers the commits
    of a busy moment into one round (a page changed by many commits is copied once). Started by
    the first commit; ``stop()`` ends it (``Store.close``).
    """

    PAUSE = 0.2  # seconds between a commit and the checkpoint that copies it
    # As SQLite's automatic checkpoint: none while the log is under 1,000 pages (of 4 KiB). A small
    # log costs nothing to keep, and the first write of a full disk still fails on it (503) rather
    # than landing in the space a restarted log would reuse.
    MIN_LOG_BYTES = 1000 * 4096

    def __init__(self, path: Path, busy_timeout: float, write_lock):
        self.path = path
        self.wal = Path(f"{path}-wal")
        self.busy_timeout = busy_timeout
        self._write_lock = write_lock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def committed(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._stop.clear()
                    self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wake.set()
            if thread is not None:
                thread.join(timeout=10)

    def _run(self) -> None:
        conn = None
        try:
            while not self._stop.is_set():
                self._wake.wait()
                if self._stop.wait(self.PAUSE):
                    break
                self._wake.clear()
                try:
                    if os.path.getsize(self.wal) < self.MIN_LOG_BYTES:
                        continue
                    if conn is None:
                        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=self.busy_timeout)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    # What was committed meanwhile, under the writers' lock: the next write starts the log over.
                    while not self._stop.is_set():
                        if self._write_lock.acquire(timeout=0.1):  # (a Store closed from inside a write)
                            try:
                                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                            finally:
                                self._write_lock.release()
                            break
                except (sqlite3.Error, OSError):
                    pass  # a busy or vanished database: the next commit tries again
        finally:
            if conn is not None:
                conn.close()


def for_settings(settings) -> Store:
    """The Store the server and the CLI open: lock timeout and checkpoints as the settings say."""
    return Store(settings.db_path, busy_timeout=settings.db_busy_timeout,
                 autocheckpoint=not settings.litestream_replica)


def backup(source: Path | str, target: Path | str) -> None:
    """Write a consistent copy of a live database (SQLite's online backup API)."""
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# Multi-row INSERT statements: sqlite3's executemany() releases and retakes the GIL on every
# row, so a writer that shares the interpreter with other threads (the event loop, readers)
# waits for the GIL once per row; one statement per chunk of rows waits once per chunk. With
# 8 connections busy, each of the writer's statements waited 0.1-0.3 ms for the GIL while it
# held the write lock, half the lock's time: the fewer statements, the better. Powers of two up
# to 128, and 100, the phone's batch (static/js/outbox-send.js BATCH_SIZE): a full batch in one
# statement per table, any other in a handful, and few enough shapes that the statement cache
# keeps every one prepared.
CHUNKS = (128, 100, 64, 32, 16, 8, 4, 2, 1)
MAX_VARIABLES = 32_000  # SQLite's limit is 32,766 bound values per statement
_SHAPES: dict[tuple[str, int, int, str, bool], str] = {}


def insert_rows(conn: sqlite3.Connection, head: str, width: int, rows: list[tuple], tail: str = "", *,
                pad: bool = False) -> int:
    """Run ``head values (?, …), (?, …) … tail`` over every row (each ``width`` values); the rows changed.

    ``head`` is ``insert [or ignore] into t (a, b, …)``; ``tail`` an optional ``on conflict …`` clause.
    ``pad``: up to 128 rows in one statement, the shape filled with rows of nulls that a
    ``where column1 is not null`` leaves out (the first value of a row must never be null): for
    small upserts of any count (the summaries), one statement instead of up to seven.
    """
    changed = 0
    start, total = 0, len(rows)
    while start < total:
        left = total - start
        if pad and left <= CHUNKS[0] and CHUNKS[0] * width <= MAX_VARIABLES:
            size = min(c for c in CHUNKS if c >= left)
            chunk = rows[start:] + [(None,) * width] * (size - left)
        else:
            size = next(c for c in CHUNKS if c <= left and c * width <= MAX_VARIABLES)
            chunk = rows[start:start + size]
        padded = pad and len(chunk) > left
        key = (head, width, size, tail, padded)
        sql = _SHAPES.get(key)
        if sql is None:
            one = "(" + ", ".join("?" * width) + ")"
            values = f"values {', '.join([one] * size)}"
            sql = _SHAPES[key] = (f"{head} select * from ({values}) where column1 is not null {tail}" if padded
                                  else f"{head} {values} {tail}").rstrip()
        changed += conn.execute(sql, [value for row in chunk for value in row] if size > 1 else chunk[0]).rowcount
        start += size
    return changed
