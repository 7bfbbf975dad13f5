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
_PERSONAL_KEYS = ("follow_up", "reporter", "volunteer")


class IdentifierError(ValueError):
    """Neither an email address nor a phone number."""


def normalise_email(raw: object) -> str:
    """An e-mail address as compared: trimmed and lower-cased ('' for anything else)."""
    return raw.strip().lower() if isinstance(raw, str) else ""


def normalise_phone(raw: object) -> str:
    """A phone number in E.164 (+33612345678), French numbers by default ('' when it is not one).

    Compared whole, never as a substring: a number never finds a longer one that ends with it.
    """
    if not isinstance(raw, str) or not raw.strip():
        return ""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") or text.startswith("(+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        international = "33" + digits[1:]
    elif digits.startswith("33") and len(digits) == 11:
        international = digits
    else:
        international = digits
    # A French number written +33 0 6… keeps its trunk zero by habit: drop it.
    if international.startswith("330") and len(international) == 12:
        international = "33" + international[3:]
    if not 6 <= len(international) <= 15:
        return ""
    return "+" + international


def phone_digits(raw: str | None) -> str:
    """Kept for callers that compare numbers: the E.164 form (see ``normalise_phone``)."""
    return normalise_phone(raw)


def identify(raw: str) -> tuple[str, str]:
    """('email', lower-cased address) or ('phone', E.164 number); IdentifierError otherwise."""
    raw = (raw or "").strip()
    if len(raw) > 320:
        raise IdentifierError(_("Enter an email address or a phone number."))
    if is_email(raw):
        return "email", normalise_email(raw)
    phone = normalise_phone(raw)
    if is_phone(raw) and phone:
        return "phone", phone
    raise IdentifierError(_("Enter an email address or a phone number."))


def _normalise(kind: str):
    return normalise_email if kind == "email" else normalise_phone


def _register(db: Database) -> None:
    db.conn.create_function("outreach_email", 1, normalise_email, deterministic=True)
    db.conn.create_function("outreach_phone", 1, normalise_phone, deterministic=True)


def _match_sql(kind: str, column: str) -> str:
    return f"outreach_{kind}({column}) = ?"


# Where a person's identifier sits in the parsed data of a synced entry, by kind and channel.
_ENTRY_FIELDS = {
    "email": ("$.follow_up.contact", "$.reporter.email", "$.volunteer.email"),
    "phone": ("$.follow_up.contact", "$.reporter.phone", "$.volunteer.phone"),
}


def find(db: Database, raw: str) -> dict:
    """Everything held about one e-mail or phone number, matched exactly once normalised.

    Structured data (contacts, reporters, volunteers, the personal fields of synced entries) is
    matched on the whole normalised value; free text is only listed for a person to review
    (``mentions``), never exported nor erased automatically. IdentifierError if it is neither.
    """
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
    linked = {c["encounter_id"] for c in contacts if c["encounter_id"]} | {c["report_id"] for c in report_contacts}
    versions = _versions(db, linked, kind, value)
    linked |= {v["entry_id"] for v in versions}
    return {
        "kind": kind,
        "value": value,
        "contacts": contacts,
        "report_contacts": report_contacts,
        "volunteers": volunteers,
        "entry_versions": versions,
        "mentions": _mentions(db, kind, value),
        "linked": sorted(linked),
    }


def _versions(db: Database, linked: set[str], kind: str, value: str) -> list[dict]:
    """The versions of the linked entries, and any version whose personal fields hold this exact value."""
    rows: dict[int, dict] = {}
    for entry_id in linked:
        for r in db.query("select * from entry_versions where entry_id = ?", [entry_id]):
            rows[r["id"]] = r
    cond = " or ".join(
        f"{_match_sql(kind, f'json_extract(data, {path!r})')}" for path in _ENTRY_FIELDS[kind]
    )
    params = [value] * len(_ENTRY_FIELDS[kind])
    for r in db.query(f"select * from entry_versions where json_valid(data) and ({cond})", params):
        rows[r["id"]] = r
    return [rows[k] for k in sorted(rows)]


_TEXT_COLUMNS = {
    "encounters": ("id", ("note",)),
    "reports": ("id", ("title", "description", "address", "where_detail", "public_reply")),
    "report_events": ("id", ("text",)),
}
_EMAIL_IN_TEXT = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")
_PHONE_IN_TEXT = re.compile(r"\(?\+?\d[\d\s().-]{4,22}\d")


def _mentions_value(text: object, kind: str, value: str) -> int:
    """1 when the text holds the identifier as a whole address or number (not inside a longer one)."""
    if not isinstance(text, str):
        return 0
    if kind == "email":
        return int(any(normalise_email(m.rstrip(".")) == value for m in _EMAIL_IN_TEXT.findall(text)))
    return int(any(normalise_phone(m) == value for m in _PHONE_IN_TEXT.findall(text)))


def _mentions(db: Database, kind: str, value: str) -> list[dict]:
    """Free-text places that seem to name the person: for a coordinator to read, nothing more."""
    db.conn.create_function("outreach_mentions", 3, _mentions_value, deterministic=True)
    # A cheap pre-filter (the address itself, or the number's last four digits) before the exact check.
    hint = value if kind == "email" else value[-4:]
    out = []
    for table, (pk, columns) in _TEXT_COLUMNS.items():
        for column in columns:
            pre = f"instr(lower({column}), ?) > 0" if kind == "email" else f"instr(replace(replace(replace({column}, ' ', ''), '.', ''), '-', ''), ?) > 0"
            sql = (f"select {pk} as id, {column} as text from {table} "
                   f"where {column} is not null and {pre} and outreach_mentions({column}, ?, ?)")
            for r in db.query(sql, [hint, kind, value]):
                out.append({"table": table, "column": column, "id": r["id"], "text": r["text"]})
    return out


def access_export(found: dict) -> str:
    """The answer to an access request: the data linked to the person, as JSON (free-text
    mentions are not in it: a person reads them first, they may be about someone else)."""
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
    }
    return json.dumps(body, ensure_ascii=False, indent=2, default=str)


def _drop_personal(value):
    """The entry's data without its personal parts (follow-up, reporter, volunteer)."""
    if isinstance(value, dict):
        return {k: ({"erased": True} if k in _PERSONAL_KEYS and v else _drop_personal(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_personal(v) for v in value]
    return value


def _scrub_versions(db: Database, rows: list[dict], linked: set[str]) -> int:
    """Rewrite the stored sync history of linked entries without their personal parts (the hash
    is kept: replays stay 'unchanged'). Free text is left for a person to review."""
    n = 0
    for r in rows:
        if r["entry_id"] not in linked:
            continue
        try:
            data = json.loads(r["data"])
        except (TypeError, ValueError):
            continue
        text = json.dumps(_drop_personal(data), ensure_ascii=False, sort_keys=True)
        if text != r["data"]:
            db.execute("update entry_versions set data = ? where id = ?", [text, r["id"]])
            n += 1
    return n


def erase(db: Database, found: dict, user_id: int | None, reference: str = "") -> dict:
    """Erase the person's linked data that ``find`` returned (call inside one write transaction);
    audit without the identifier. Free-text mentions are counted, left for a person to review."""
    linked = set(found["linked"])
    counts = {
        "contacts": _delete_ids(db, "contacts", "id", [c["id"] for c in found["contacts"]]),
        "report_contacts": _delete_ids(db, "report_contacts", "report_id", [c["report_id"] for c in found["report_contacts"]]),
        "volunteers": _delete_ids(db, "report_volunteers", "id", [v["id"] for v in found["volunteers"]]),
        "entry_versions": _scrub_versions(db, found["entry_versions"], linked),
        "mentions_to_review": len(found["mentions"]),
    }
    mail_removed = mail_queue.purge_orphans(db)  # the messages to and about them go with them
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
        "entry_versions": _scrub_versions(db, versions, linked),
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
