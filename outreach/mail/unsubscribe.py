"""One-click unsubscribe: a signed link naming what it withdraws, and the withdrawal itself.

The link is the authority (signed, unguessable, made for this purpose only), so the one-click
POST that mail clients send (RFC 8058) needs no session and no form token. Opening the link
(GET) only shows a button: link scanners that prefetch URLs never unsubscribe anyone.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from .. import audit

PURPOSE = "unsubscribe"
REF_TYPES = ("report", "volunteer", "contact")


def url(outbox, ref_type: str, ref_id, purpose: str | None = None) -> str:
    return outbox.url("/unsubscribe/" + outbox.signer.dumps(PURPOSE, [ref_type, str(ref_id), purpose or ""]))


def read(signer, token: str) -> tuple[str, str, str] | None:
    value = signer.loads(PURPOSE, token)  # no age limit: an old message's link must still work
    if (not isinstance(value, list) or len(value) != 3 or value[0] not in REF_TYPES
            or not all(isinstance(v, str) and len(v) <= 100 for v in value)):
        return None
    return value[0], value[1], value[2]


def withdraw(db: Database, ref_type: str, ref_id: str, purpose: str = "") -> bool:
    """Withdraw the consent the link names; True if something changed (False: already done)."""
    changed = False
    if ref_type == "report":
        changed = db.execute("update report_contacts set email = null where report_id = ? and email is not null",
                             [ref_id]).rowcount > 0
    elif ref_type == "volunteer":
        changed = db.execute("update report_volunteers set email = null where id = ? and email is not null",
                             [ref_id]).rowcount > 0
    elif ref_type == "contact":
        row = db.execute("select purposes from contacts where id = ?", [ref_id]).fetchone()
        if row:
            purposes = [p for p in json.loads(row[0] or "[]") if p != purpose]
            if len(purposes) != len(json.loads(row[0] or "[]")):
                changed = True
                if purposes:
                    db.execute("update contacts set purposes = ? where id = ?", [json.dumps(purposes), ref_id])
                else:  # no consent left: the contact itself goes
                    db.execute("delete from contacts where id = ?", [ref_id])
    if changed:
        db.execute("update mail_queue set status = 'cancelled' where ref_type = ? and ref_id = ? and status = 'queued'",
                   [ref_type, ref_id])
        from .queue import purge_orphans

        purge_orphans(db)
        audit.record(db, None, "mail.unsubscribe", ref_type, ref_id, purpose=purpose or None)
    return changed
