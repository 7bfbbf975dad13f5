"""What /health reports: the database (a read, and whether a write lock can be taken), free disk
space, the mail queue and Litestream's last replication. Counts and ages only, no personal data.

A database that cannot be read or locked for writing, or a disk with less than a mebibyte
left, makes the answer 503 (a load balancer or monitor takes the server out); low disk space,
old unsent mail or a stale replica are warnings with a 200.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from .faults import classify
from .mail import queue as mail_queue

MIB = 1024 * 1024
MAIL_WARN_AGE = 3600  # seconds an unsent message may wait before it is a warning
REPLICATION_WARN_AGE = 3600


def _database(db_path: Path) -> dict:
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=rw", uri=True, timeout=1)
    except sqlite3.Error as exc:
        return {"ok": False, "read": False, "write_lock": False, "reason": classify(exc) or "unavailable"}
    result = {"ok": False, "read": False, "write_lock": False}
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
        result["read"] = True
        conn.execute("begin immediate")  # takes the write lock, writes nothing
        conn.execute("rollback")
        result["write_lock"] = True
        result["ok"] = True
    except sqlite3.Error as exc:
        result["reason"] = classify(exc) or "error"
    finally:
        conn.close()
    return result


def _disk(data_dir: Path, warning_mb: int) -> dict:
    usage = shutil.disk_usage(data_dir)
    free_mb = usage.free // MIB
    writable = os.access(data_dir, os.W_OK)
    return {"ok": usage.free >= MIB and writable, "warning": free_mb < warning_mb, "free_mb": free_mb,
            "warning_below_mb": warning_mb, "writable": writable}


def _age(iso: str | None, now: datetime) -> int | None:
    if not iso:
        return None
    return max(0, int((now - datetime.fromisoformat(iso)).total_seconds()))


def _mail(db, enabled: bool, now: datetime) -> dict:
    summary = mail_queue.summary(db)
    age = _age(summary["oldest_unsent"], now)
    return {"enabled": enabled, "queued": summary["counts"].get("queued", 0), "failed": summary["counts"].get("failed", 0),
            "oldest_unsent_age_s": age, "warning": bool(enabled and age is not None and age > MAIL_WARN_AGE)}


def _newest_mtime(root: Path) -> float | None:
    newest = None
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                mtime = entry.stat().st_mtime
                newest = mtime if newest is None or mtime > newest else newest
    return newest


def _replication(replica: str, now: datetime) -> dict:
    if not replica:
        return {"configured": False}
    if "://" in replica and not replica.startswith("file://"):
        return {"configured": True, "kind": replica.split("://", 1)[0], "last_replication_age_s": None, "warning": False}
    path = Path(replica.removeprefix("file://"))
    newest = _newest_mtime(path) if path.is_dir() else None
    age = None if newest is None else max(0, int(now.timestamp() - newest))
    return {"configured": True, "kind": "file", "last_replication_age_s": age,
            "warning": age is None or age > REPLICATION_WARN_AGE}


def report(store, settings) -> tuple[bool, dict]:
    """(healthy, the JSON document); healthy is False when the server cannot serve writes."""
    now = datetime.now(timezone.utc)
    database = _database(settings.db_path)
    disk = _disk(settings.data_dir, settings.disk_warning_mb)
    checks = {"database": database, "disk": disk, "replication": _replication(settings.litestream_replica, now)}
    try:
        checks["mail"] = _mail(store.db(), settings.mail_enabled, now)
    except sqlite3.Error as exc:
        checks["mail"] = {"enabled": settings.mail_enabled, "reason": classify(exc) or "error"}
    healthy = database["ok"] and disk["ok"]
    warning = any(c.get("warning") for c in checks.values())
    return healthy, {"ok": healthy, "status": "error" if not healthy else "warning" if warning else "ok", "checks": checks}
