"""Residents' personal data: retention purge, access requests, erasure.

Personal data lives in ``contacts`` (follow-ups given with consent), ``report_contacts`` (a
reporter's contact), ``report_volunteers`` (people who signed up to help), and, as received,
in the sync history ``entry_versions.data``. Free text (encounter notes, report text and
events) may mention someone too. Purge and erasure clear every one of these places in one
transaction and write what they did to the audit log, without the person's identifier.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from .i18n import gettext as _

from . import audit
from .validation import is_email, is_phone
from .mail import queue as mail_queue

log = logging.getLogger("outreach.privacy")
ERASED = "[effacé]"
_PERSONAL_KEYS = ("follow_up", "reporter", "volunteer")


class IdentifierError(ValueError):
    """Neither an email address nor a phone number."""


def phone_digits(raw: str | None) -> str:
    """A phone number reduced to its digits, French international prefix folded (+33 6… = 06…)."""
    if not raw:
        return ""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def identify(raw: str) -> tuple[str, str]:
    """('email', lowercased) or ('phone', digits); IdentifierError otherwise."""
    raw = (raw or "").strip()
    if len(raw) > 320:
        raise IdentifierError(_("Enter an email address or a phone number."))
    if is_email(raw):
        return "email", raw.lower()
    digits = phone_digits(raw)
    if is_phone(raw) and 6 <= len(digits) <= 15:
        return "phone", digits
    raise IdentifierError(_("Enter an email address or a phone number."))


def _register(db: Database) -> None:
    db.conn.create_function("outreach_phone", 1, phone_digits, deterministic=True)


def _match_sql(kind: str, column: str) -> str:
    return f"lower(trim({column})) = ?" if kind == "email" else f"outreach_phone({column}) = ?"


def find(db: Database, raw: str) -> dict:
    """Everything held about one email or phone number (IdentifierError if it is neither)."""
    kind, value = identify(raw)
    _register(db)
    channel = "channel = 'email'" if kind == "email" else "channel in ('phone', 'sms')"
    contacts = list(db.query(f"select * from contacts where {channel} and {_match_sql(kind, 'contact')}", [value]))
    rc_col = "email" if kind == "email" else "phone"
    report_contacts = list(
        db.query(
            "select c.*, r.title as report_title, r.status as report_status, r.received_at as report_received_at "
            f"from report_contacts c join reports r on r.id = c.report_id where {_match_sql(kind, 'c.' + rc_col)}",
            [value],
        )
    )
    volunteers = list(db.query(f"select * from report_volunteers where {_match_sql(kind, rc_col)}", [value]))
    # The strings as they were typed, to find them in JSON and free text.
    needles = {raw.strip()} | {c["contact"] for c in contacts} | {c[rc_col] for c in report_contacts}
    needles |= {v[rc_col] for v in volunteers}
    needles = {n for n in needles if n and len(n) >= 5}
    linked = {c["encounter_id"] for c in contacts if c["encounter_id"]} | {c["report_id"] for c in report_contacts}
    versions = _versions(db, linked, needles, kind)
    mentions = _mentions(db, needles, kind)
    return {
        "kind": kind,
        "contacts": contacts,
        "report_contacts": report_contacts,
        "volunteers": volunteers,
        "entry_versions": versions,
        "mentions": mentions,
        "needles": sorted(needles),
        "linked": sorted(linked),
    }


def _like_any(column: str, needles: set[str], kind: str) -> tuple[str, list]:
    if not needles:
        return "0", []
    fn = "lower" if kind == "email" else ""
    parts = [f"instr({fn}({column}), ?) > 0" for _ in needles]
    return "(" + " or ".join(parts) + ")", [n.lower() if kind == "email" else n for n in needles]


def _versions(db: Database, linked: set[str], needles: set[str], kind: str) -> list[dict]:
    rows: dict[int, dict] = {}
    for entry_id in linked:
        for r in db.query("select * from entry_versions where entry_id = ?", [entry_id]):
            rows[r["id"]] = r
    cond, params = _like_any("data", needles, kind)
    for r in db.query(f"select * from entry_versions where {cond}", params):
        rows[r["id"]] = r
    return [rows[k] for k in sorted(rows)]


_TEXT_COLUMNS = {
    "encounters": ("id", ("note",)),
    "reports": ("id", ("title", "description", "address", "where_detail", "public_reply")),
    "report_events": ("id", ("text",)),
}


def _mentions(db: Database, needles: set[str], kind: str) -> list[dict]:
    out = []
    for table, (pk, columns) in _TEXT_COLUMNS.items():
        for column in columns:
            cond, params = _like_any(column, needles, kind)
            for r in db.query(f"select {pk} as id, {column} as text from {table} where {cond}", params):
                out.append({"table": table, "column": column, "id": r["id"], "text": r["text"]})
    return out


def access_export(found: dict) -> str:
    """The answer to an access request: every piece of data found, as JSON."""
    versions = []
    for v in found["entry_versions"]:
        try:
            data = json.loads(v["data"])
        except (TypeError, ValueError):
            data = v["data"]
        versions.append({k: v[k] for k in ("entry_id", "kind", "version", "created_at", "received_at")} | {"data": data})
    for c in found["contacts"]:
        if isinstance(c.get("purposes"), str):
            try:
                c["purposes"] = json.loads(c["purposes"])
            except ValueError:
                pass
    body = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "follow_up_contacts": found["contacts"],
        "report_contacts": found["report_contacts"],
        "worksite_volunteers": found["volunteers"],
        "synced_entries": versions,
        "mentions_in_text": found["mentions"],
    }
    return json.dumps(body, ensure_ascii=False, indent=2, default=str)


def _scrub_value(value, needles: set[str], drop_personal: bool):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if drop_personal and k in _PERSONAL_KEYS and v:
                out[k] = {"erased": True}
            else:
                out[k] = _scrub_value(v, needles, drop_personal)
        return out
    if isinstance(value, list):
        return [_scrub_value(v, needles, drop_personal) for v in value]
    if isinstance(value, str):
        return _scrub_text(value, needles)
    return value


def _scrub_text(text: str, needles: set[str]) -> str:
    for n in sorted(needles, key=len, reverse=True):
        text = re.sub(re.escape(n), ERASED, text, flags=re.IGNORECASE)
    return text


def _scrub_versions(db: Database, rows: list[dict], needles: set[str], linked: set[str]) -> int:
    """Rewrite stored sync history without personal data (the hash is kept: replays stay 'unchanged')."""
    n = 0
    for r in rows:
        try:
            data = json.loads(r["data"])
        except (TypeError, ValueError):
            data = r["data"]
        clean = _scrub_value(data, needles, drop_personal=r["entry_id"] in linked)
        text = json.dumps(clean, ensure_ascii=False, sort_keys=True)
        if text != r["data"]:
            db.execute("update entry_versions set data = ? where id = ?", [text, r["id"]])
            n += 1
    return n


def erase(db: Database, found: dict, user_id: int | None, reference: str = "") -> dict:
    """Erase everything ``find`` returned (call inside one write transaction); audit without the identifier."""
    needles = set(found["needles"])
    linked = set(found["linked"])
    counts = {
        "contacts": _delete_ids(db, "contacts", "id", [c["id"] for c in found["contacts"]]),
        "report_contacts": _delete_ids(db, "report_contacts", "report_id", [c["report_id"] for c in found["report_contacts"]]),
        "volunteers": _delete_ids(db, "report_volunteers", "id", [v["id"] for v in found["volunteers"]]),
        "entry_versions": _scrub_versions(db, found["entry_versions"], needles, linked),
        "mentions": 0,
    }
    mail_removed = mail_queue.purge_orphans(db)  # the messages to and about them go with them
    for m in found["mentions"]:
        table, column = m["table"], m["column"]
        assert column in _TEXT_COLUMNS[table][1]
        db.execute(f"update {table} set {column} = ? where id = ?", [_scrub_text(m["text"], needles), m["id"]])
        counts["mentions"] += 1
    audit.record(db, user_id, "erasure", "person", "", reference=reference[:100], mail=mail_removed, **counts)
    return counts


def _delete_ids(db: Database, table: str, pk: str, ids: list) -> int:
    for i in ids:
        db.execute(f"delete from {table} where {pk} = ?", [i])
    return len(ids)


def purge(db: Database, contact_retention_days: int, reporter_contact_retention_days: int,
          now: datetime | None = None, user_id: int | None = None, via: str = "auto") -> dict:
    """Apply the retention rules (call inside one write transaction); returns what was removed."""
    now = now or datetime.now(timezone.utc)
    now_iso = now.isoformat(timespec="seconds")
    consent_limit = (now - timedelta(days=contact_retention_days)).isoformat(timespec="seconds")
    closed_limit = (now - timedelta(days=reporter_contact_retention_days)).isoformat(timespec="seconds")
    expired = list(
        db.query(
            "select id, encounter_id from contacts "
            "where datetime(expires_at) <= datetime(?) or datetime(consented_at) <= datetime(?)",
            [now_iso, consent_limit],
        )
    )
    closed = [
        r["id"]
        for r in db.query(
            "select id from reports where status in ('done', 'declined', 'duplicate') and closed_at is not null "
            "and datetime(closed_at) <= datetime(?) and "
            "(exists (select 1 from report_contacts c where c.report_id = reports.id) or "
            " exists (select 1 from report_volunteers v where v.report_id = reports.id))",
            [closed_limit],
        )
    ]
    linked = {c["encounter_id"] for c in expired if c["encounter_id"]} | set(closed)
    versions = []
    for entry_id in linked:
        versions += list(db.query("select * from entry_versions where entry_id = ?", [entry_id]))
    counts = {
        "contacts": _delete_ids(db, "contacts", "id", [c["id"] for c in expired]),
        "report_contacts": sum(
            db.execute("delete from report_contacts where report_id = ?", [r]).rowcount for r in closed
        ),
        "volunteers": sum(db.execute("delete from report_volunteers where report_id = ?", [r]).rowcount for r in closed),
        "entry_versions": _scrub_versions(db, versions, set(), linked),
    }
    mail_removed = mail_queue.purge_orphans(db)  # the messages to and about them go with them
    if any(counts.values()) or mail_removed:
        audit.record(db, user_id, "purge", "retention", "", via=via, mail=mail_removed, **counts)
    return counts


async def purge_daily(store, settings, interval: float = 24 * 3600, first_delay: float = 60) -> None:
    """Run ``purge`` shortly after start, then every day (a task of the app lifespan)."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            def run():
                with store.write() as db:
                    return purge(db, settings.contact_retention_days, settings.reporter_contact_retention_days)

            counts = await asyncio.to_thread(run)
            if any(counts.values()):
                log.info("retention purge: %s", counts)
        except Exception:  # a failed run must not stop the next ones
            log.exception("retention purge failed")
        await asyncio.sleep(interval)
