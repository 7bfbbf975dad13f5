"""Open the SQLite database: WAL, foreign keys, one connection per thread, one writer at a time."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from . import localtime


def connect(path: Path | str, *, busy_timeout: float = 30, autocheckpoint: bool = True) -> sqlite_utils.Database:
    """Open one connection with the pragmas every connection needs.

    ``autocheckpoint=False`` leaves WAL checkpoints to Litestream, as its documentation asks
    of applications it replicates (only set it when Litestream runs beside the server, or the
    WAL grows without bound).
    """
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=busy_timeout)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    if not autocheckpoint:
        db.execute("PRAGMA wal_autocheckpoint=0")
    # Local days: the aggregate triggers and the reads call local_day() in the city's zone.
    localtime.install(db)
    return db


class Store:
    """The application's database handle.

    Starlette runs plain ``def`` views in a thread pool, and a sqlite3
    connection must not be shared between threads, so each thread gets its own
    connection. Writes inside this process take one lock, so two requests never
    fight over SQLite's write lock (no ``database is locked`` under load).
    """

    def __init__(self, path: Path | str, *, busy_timeout: float = 30, autocheckpoint: bool = True):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.autocheckpoint = autocheckpoint
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite_utils.Database] = []
        self._all_lock = threading.Lock()

    def db(self) -> sqlite_utils.Database:
        """This thread's connection (for reads, or writes inside ``write()``)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path, busy_timeout=self.busy_timeout, autocheckpoint=self.autocheckpoint)
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction, alone among this process's writers; rolled back on error."""
        db = self.db()
        with self._write_lock:
            try:
                with db.atomic():
                    yield db
            except BaseException:
                # A COMMIT that failed (disk full, I/O error) may leave the transaction open;
                # the next request on this thread's connection must not nest inside it.
                if db.conn.in_transaction:
                    try:
                        db.conn.rollback()
                    except sqlite3.Error:
                        pass
                raise

    def close(self) -> None:
        with self._all_lock:
            for db in self._all:
                try:
                    db.close()
                except sqlite3.ProgrammingError:
                    pass  # closed by another thread's exit already
            self._all.clear()
        self._local = threading.local()


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
