"""Where a new encounter's time goes on the sync path, step by step, in one thread.

    PYTHONPATH=. .venv/bin/python bench/bench_sync_steps.py [--ids v4|v7] [--batches 60]

Calls the intake directly (no HTTP): the body read as the view reads it, ``sync.prepare`` (checks,
canonical JSON, sha256, the stored-versions read, rows built) and ``Store.write_grouped`` with
``sync.write_batch``; then the write's parts (each multi-row INSERT, the history read, the COMMIT).
Thread CPU time per entry, so the figures hold on a shared machine better than wall time; the
first ten batches warm up. Then the pages each entry adds to the write-ahead log (the checkpoint
thread is left out, so the log keeps them): a COMMIT writes each page its batch changed, about
4-5 µs a 4 KiB page here, so an index whose keys fall all over it (random ids, or times spread
over the whole table as in this load) costs far more than one written at its end. Complements
``bench_sync.py``, which measures the whole server.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sync  # noqa: E402 (the same encounters as the server bench)

from outreach import db as dbmod, users  # noqa: E402
from outreach.app import create_app  # noqa: E402
from outreach.coordinator import stats  # noqa: E402
from outreach.field import encounters, sync  # noqa: E402
from outreach.settings import Settings  # noqa: E402
from outreach.web import parse_json  # noqa: E402

WARM = 10


def timed(table: collections.Counter, name: str, fn):
    def wrapper(*args, **kwargs):
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            table[name(*args) if callable(name) else name] += time.thread_time() - start
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", default="v4", choices=["v4", "v7"])
    parser.add_argument("--batches", type=int, default=60, help="batches of 100 (the first ten warm up)")
    args = parser.parse_args()
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-steps-")), secret_key="k" * 40))
    store, settings = app.state.store, app.state.settings
    store._checkpointer = None  # the log keeps every page written, to be counted
    with store.write() as db:
        user = users.create_user(db, "steps@bench.example", bench_sync.PASSWORD, "field")
    bodies = [json.dumps({"device_id": "bench-steps-01", "entries": batch}).encode()
              for batch in bench_sync.make_batches(1, args.batches, 100, args.ids)[0]]

    parts: collections.Counter = collections.Counter()
    sync.insert_rows = encounters.insert_rows = stats.insert_rows = timed(
        parts, lambda conn, head, *rest: head.split("(")[0].strip(), dbmod.insert_rows)
    sync._histories = timed(parts, "history read (inside the write)", sync._histories)
    sync._stored_versions = timed(parts, "stored versions read (prepare)", sync._stored_versions)

    writer, atomic = store._writer, store._writer.atomic

    @contextmanager
    def timed_commit():
        """The writer's transaction, its COMMIT timed (a nested one is a savepoint, as before)."""
        if writer.conn.in_transaction:
            with atomic():
                yield writer
            return
        writer.conn.execute("BEGIN")
        try:
            yield writer
        except BaseException:
            writer.conn.rollback()
            raise
        start = time.thread_time()
        writer.conn.execute("COMMIT")
        parts["COMMIT (writes the changed pages to the log)"] += time.thread_time() - start

    writer.atomic = timed_commit
    wal = Path(f"{store.path}-wal")
    page = writer.execute("pragma page_size").fetchone()[0]
    steps = collections.Counter()
    for n, body in enumerate(bodies):
        if n == WARM:
            steps.clear()
            parts.clear()
            writer.execute("pragma wal_checkpoint(truncate)").fetchall()
        t0 = time.thread_time()
        entries = parse_json(body)["entries"]
        t1 = time.thread_time()
        batch = sync.prepare(store.db(), user, entries, device_id="bench-steps-01", settings=settings)
        t2 = time.thread_time()
        store.write_grouped(lambda db: sync.write_batch(db, batch))
        t3 = time.thread_time()
        steps["read the body"] += t1 - t0
        steps["prepare"] += t2 - t1
        steps["write (group commit, all of it)"] += t3 - t2
    entries = (len(bodies) - WARM) * 100
    print(f"UUID{args.ids}, {entries} new encounters in batches of 100, thread CPU µs per entry:")
    for name, seconds in steps.items():
        print(f"  {seconds / entries * 1e6:6.1f}  {name}")
    print("of which:")
    for name, seconds in parts.most_common():
        print(f"  {seconds / entries * 1e6:6.1f}  {name}")
    frames = wal.stat().st_size // (page + 24) if wal.exists() else 0
    print(f"pages written to the log: {frames / entries:.2f} per entry ({page} B pages)")
    app.state.store.close()


if __name__ == "__main__":
    main()
