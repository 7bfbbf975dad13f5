"""The mail_queue table: enqueue inside the caller's transaction; the sender takes what is due.

A message's Message-ID is derived from (kind, event, recipient): queueing the same event twice
for the same person is one row (``insert or ignore`` on a unique index, not check-then-insert),
and a resend after a crash carries the same Message-ID, which receiving systems deduplicate.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from . import messages
from .messages import Content

QUEUED, SENT, FAILED, CANCELLED = "queued", "sent", "failed", "cancelled"
FIRST_WAIT = 60  # seconds before the first retry; doubled each time up to MAX_WAIT
MAX_WAIT = 3600
ID_DOMAIN = "outreach.invalid"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def message_id(kind: str, event: str, recipient: str, domain: str = ID_DOMAIN) -> str:
    digest = hashlib.sha256(f"{kind}\x1f{event}\x1f{recipient.strip().lower()}".encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def enqueue(db: Database, *, kind: str, event: str, recipient: str, name: str | None, locale: str,
            content: Content, ref_type: str, ref_id: str | int, not_before: datetime | None = None) -> bool:
    """Queue one message (inside the caller's transaction); False when it was queued already
    or the address cannot be used."""
    try:
        address = messages.check_address(recipient)
    except messages.AddressError:
        return False
    subject, text, html = messages.render(content, locale)
    now = utcnow()
    cursor = db.execute(
        "insert or ignore into mail_queue (message_id, kind, event, ref_type, ref_id, recipient, recipient_name, locale,"
        " subject, body_text, body_html, unsubscribe_url, status, attempts, next_attempt_at, created_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)",
        [message_id(kind, event, address), kind, event, ref_type, str(ref_id), address, messages.one_line(name, 80),
         locale, subject, text, html, content.unsubscribe_url, _iso(not_before or now), _iso(now)],
    )
    return cursor.rowcount == 1


def cancel(db: Database, event_prefix: str) -> int:
    """Cancel messages not yet sent whose event starts with ``event_prefix`` (a reminder for a
    date that moved or a worksite that was cancelled)."""
    return db.execute(
        "update mail_queue set status = 'cancelled' where status = 'queued' and event like ? escape '\\'",
        [event_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"],
    ).rowcount


LEASE = 600  # seconds a claimed message is left to its sender before another may try it


def claim(db: Database, now: datetime, limit: int = 50) -> list[dict]:
    """Take the messages due at ``now`` (inside a write transaction): they are not due again for
    LEASE seconds, so two senders never take the same one; a sender killed mid-send leaves them
    to be tried again after the lease, with the same Message-ID."""
    rows = list(db.query(
        "select * from mail_queue where status = 'queued' and next_attempt_at <= ? order by next_attempt_at, id limit ?",
        [_iso(now), limit]))
    if rows:
        marks = ",".join("?" * len(rows))
        db.execute(f"update mail_queue set next_attempt_at = ? where id in ({marks})",
                   [_iso(now + timedelta(seconds=LEASE)), *[r["id"] for r in rows]])
    return rows


def mark_sent(db: Database, row_id: int, now: datetime) -> None:
    db.execute("update mail_queue set status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = null"
               " where id = ?", [_iso(now), row_id])


def wait_after(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_WAIT * 2 ** max(attempts - 1, 0), MAX_WAIT)


def mark_failed(db: Database, row_id: int, error: str, now: datetime, *, max_attempts: int, permanent: bool = False) -> str:
    """Record a failed attempt: retry later, or give up (status failed) after the last attempt."""
    row = db.execute("select attempts from mail_queue where id = ?", [row_id]).fetchone()
    attempts = (row[0] if row else 0) + 1
    status = FAILED if permanent or attempts >= max_attempts else QUEUED
    db.execute(
        "update mail_queue set attempts = ?, status = ?, last_error = ?, next_attempt_at = ? where id = ?",
        [attempts, status, messages.one_line(error, 300), _iso(now + timedelta(seconds=wait_after(attempts))), row_id],
    )
    return status


def retry(db: Database, row_id: int) -> bool:
    """An admin sends a failed message again (after fixing the address or the server)."""
    return db.execute("update mail_queue set status = 'queued', attempts = 0, next_attempt_at = ?"
                      " where id = ? and status = 'failed'", [_iso(utcnow()), row_id]).rowcount == 1


def failures(db: Database, limit: int = 200) -> list[dict]:
    return list(db.query(
        "select id, kind, recipient, subject, attempts, last_error, created_at, next_attempt_at from mail_queue"
        " where status = 'failed' order by created_at desc limit ?", [limit]))


def summary(db: Database) -> dict:
    """Counts per status and the oldest unsent message's creation time (no personal data)."""
    counts = {r["status"]: r["n"] for r in db.query("select status, count(*) n from mail_queue group by status")}
    # Waiting: due now, or already tried (a reminder queued for a later day is not waiting).
    oldest = db.execute("select min(created_at) from mail_queue where status = 'queued'"
                        " and (attempts > 0 or next_attempt_at <= ?)", [_iso(utcnow())]).fetchone()[0]
    return {"counts": counts, "oldest_unsent": oldest}


# What each ref_type points to: a message is purged when what it concerns is gone.
_REFS = {
    "contact": "select id from contacts",
    "report": "select report_id from report_contacts where email is not null and email != ''",
    "volunteer": "select cast(id as text) from report_volunteers where email is not null and email != ''",
    "user": "select cast(id as text) from users",
}


def purge_orphans(db: Database) -> int:
    """Delete queued and logged mail whose contact, reporter, volunteer or user is gone."""
    removed = 0
    for ref_type, ids in _REFS.items():
        removed += db.execute(f"delete from mail_queue where ref_type = ? and ref_id not in ({ids})", [ref_type]).rowcount
    return removed
