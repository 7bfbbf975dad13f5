"""Accounts and reference data, for administrators.

Invitations and password resets are signed links with their own purpose, an age limit and a
one-time id (``used_tokens``: a unique key, so a link used twice is refused by the database).
Deactivating an account bumps ``users.session_epoch``: every session signed with the old
epoch stops working on its next request.
"""

from __future__ import annotations

import re
import uuid
from typing import Mapping

from sqlite_utils import Database

from .i18n import gettext as _

from . import audit, refdata, vocab
from .refdata import now_iso
from .validation import is_email

ROLES = vocab.ROLES.codes
INVITE = "invitation"
RESET = "password_reset"
REF_TABLES = ("zones", "tools", "categories")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}\Z")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")


class AdminError(ValueError):
    """A refused admin action; ``errors`` maps fields to English msgids."""

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"_": errors}
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _text(form: Mapping, name: str, lo: int, hi: int, errors: dict, message: str) -> str:
    value = (form.get(name) or "").strip()
    if not lo <= len(value) <= hi:
        errors[name] = message
    return value


# --- invitations and password resets ------------------------------------------------------


def validate_invitation(db: Database, form: Mapping) -> dict:
    errors: dict[str, str] = {}
    email = (form.get("email") or "").strip().lower()
    if not is_email(email):
        errors["email"] = _("Enter a valid email address.")
    elif list(db.query("select 1 from users where email = ?", [email])):
        errors["email"] = _("An account with this email already exists.")
    role = form.get("role") or ""
    if role not in ROLES:
        errors["role"] = _("Choose a role from the list.")
    if errors:
        raise AdminError(errors)
    return {"email": email, "role": role}


def invitation_token(signer, invitation: dict, by: int) -> str:
    """A signed one-time invitation (purpose 'invitation'); its age is checked when used."""
    return signer.dumps(INVITE, {"email": invitation["email"], "role": invitation["role"], "by": by, "jti": uuid.uuid4().hex})


def record_invitation(db: Database, by: int, invitation: dict) -> None:
    audit.record(db, by, "invitation", "user", "", email=invitation["email"], role=invitation["role"])


def read_invitation(signer, token: str, max_age: int) -> dict | None:
    """The invitation in a link, or None when tampered, expired or made for another purpose."""
    data = signer.loads(INVITE, token, max_age=max_age)
    if not isinstance(data, dict) or not {"email", "role", "jti"} <= set(data) or data["role"] not in ROLES:
        return None
    return data


def token_used(db: Database, jti: str) -> bool:
    """Whether a one-time link's id has been used already (checked before showing its form)."""
    return bool(list(db.query("select 1 from used_tokens where jti = ?", [jti])))


def _use_once(db: Database, jti: str) -> bool:
    """Record a one-time id; False if it was already used (the primary key decides, not a check)."""
    return db.execute("insert or ignore into used_tokens (jti, used_at) values (?, ?)", [jti, now_iso()]).rowcount == 1


def validate_new_password(form: Mapping) -> str:
    password = form.get("password") or ""
    errors: dict[str, str] = {}
    if not 10 <= len(password) <= 200:
        errors["password"] = _("The password must have 10 to 200 characters.")
    elif password != (form.get("password_confirm") or ""):
        errors["password_confirm"] = _("The two passwords differ.")
    if errors:
        raise AdminError(errors)
    return password


def accept_invitation(db: Database, invitation: dict, display_name: str, password_hash: str) -> int:
    """Create the invited account (inside one write transaction); AdminError if already used."""
    if not _use_once(db, "inv-" + invitation["jti"]):
        raise AdminError(_("This invitation has already been used."))
    if list(db.query("select 1 from users where email = ?", [invitation["email"]])):
        raise AdminError(_("An account with this email already exists."))
    user_id = db["users"].insert(
        {
            "email": invitation["email"],
            "display_name": display_name,
            "role": invitation["role"],
            "password_hash": password_hash,
            "active": 1,
            "session_epoch": 0,
            "created_at": now_iso(),
        }
    ).last_pk
    audit.record(db, user_id, "invitation_accepted", "user", user_id, role=invitation["role"], invited_by=invitation.get("by"))
    return user_id


def reset_token(db: Database, signer, user_id: int, by: int) -> str:
    """A signed one-time password-reset link for one account (purpose 'password_reset')."""
    row = _user(db, user_id)
    audit.record(db, by, "password_reset_link", "user", user_id)
    jti = uuid.uuid4().hex
    # Only the latest link opens: a newer one replaces this id, and older links stop working.
    db.execute("insert into password_resets (user_id, jti, created_at) values (?, ?, ?) "
               "on conflict(user_id) do update set jti = excluded.jti, created_at = excluded.created_at",
               [user_id, jti, now_iso()])
    return signer.dumps(RESET, {"uid": user_id, "epoch": row["session_epoch"] or 0, "jti": jti})


def read_reset(db: Database, signer, token: str, max_age: int) -> dict | None:
    data = signer.loads(RESET, token, max_age=max_age)
    if not isinstance(data, dict) or not {"uid", "epoch", "jti"} <= set(data):
        return None
    rows = list(db.query("select u.session_epoch, r.jti from users u join password_resets r on r.user_id = u.id"
                         " where u.id = ? and u.active = 1", [data["uid"]]))
    # A used link or a deactivation bumped the epoch, a newer link replaced the id: nothing opens.
    if not rows or (rows[0]["session_epoch"] or 0) != data["epoch"] or rows[0]["jti"] != data["jti"]:
        return None
    return data


def reset_password(db: Database, reset: dict, password_hash: str) -> None:
    """Set the new password and end every session of the account (inside one write transaction)."""
    if not _use_once(db, "rst-" + reset["jti"]):
        raise AdminError(_("This link has already been used."))
    cur = db.execute(
        "update users set password_hash = ?, session_epoch = coalesce(session_epoch, 0) + 1 where id = ? and session_epoch = ?",
        [password_hash, reset["uid"], reset["epoch"]],
    )
    if cur.rowcount != 1:
        raise AdminError(_("This link has already been used."))
    audit.record(db, reset["uid"], "password_reset", "user", reset["uid"])


# --- accounts -------------------------------------------------------------------------------


def _user(db: Database, user_id: int) -> dict:
    rows = list(db.query("select * from users where id = ?", [user_id]))
    if not rows:
        raise AdminError(_("Unknown account."))
    return rows[0]


def _other_active_admins(db: Database, user_id: int) -> int:
    return next(iter(db.query("select count(*) as n from users where role = 'admin' and active = 1 and id != ?", [user_id])))["n"]


def change_role(db: Database, by: int, user_id: int, role: str) -> None:
    if role not in ROLES:
        raise AdminError({"role": _("Choose a role from the list.")})
    user = _user(db, user_id)
    if user["role"] == "admin" and role != "admin" and _other_active_admins(db, user_id) == 0:
        raise AdminError(_("The last administrator cannot lose that role."))
    if user["role"] == role:
        return
    # The session epoch moves too: pages opened under the old role do not keep working.
    db.execute("update users set role = ?, session_epoch = coalesce(session_epoch, 0) + 1 where id = ?", [role, user_id])
    audit.record(db, by, "role_changed", "user", user_id, before=user["role"], after=role)


def set_active(db: Database, by: int, user_id: int, active: bool) -> None:
    """Deactivate (every session ends at once) or reactivate an account."""
    user = _user(db, user_id)
    if not active and user_id == by:
        raise AdminError(_("You cannot deactivate your own account."))
    if not active and user["role"] == "admin" and _other_active_admins(db, user_id) == 0:
        raise AdminError(_("The last administrator cannot be deactivated."))
    db.execute(
        "update users set active = ?, session_epoch = coalesce(session_epoch, 0) + 1 where id = ?", [1 if active else 0, user_id]
    )
    audit.record(db, by, "account_activated" if active else "account_deactivated", "user", user_id)


def accounts(db: Database) -> list[dict]:
    return list(
        db.query(
            "select u.id, u.email, u.display_name, u.role, u.active, u.created_at, max(d.last_seen) as last_seen "
            "from users u left join devices d on d.user_id = u.id group by u.id order by u.active desc, u.display_name, u.id"
        )
    )


# --- reference data -------------------------------------------------------------------------


def save_reference(db: Database, by: int, table: str, form: Mapping, existing: bool) -> str:
    """Create or edit one zone, tool or category (codes never change once made)."""
    if table not in REF_TABLES:
        raise AdminError(_("Unknown reference table."))
    errors: dict[str, str] = {}
    code = (form.get("code") or "").strip()
    if not _CODE.match(code):
        errors["code"] = _("A code has 2 to 40 lowercase letters, digits, - or _.")
    label_fr = _text(form, "label_fr", 1, 200, errors, _("Enter a label of at most 200 characters."))
    label_en = _text(form, "label_en", 1, 200, errors, _("Enter a label of at most 200 characters."))
    raw_sort = (form.get("sort") or "0").strip()
    if not re.fullmatch(r"-?\d{1,6}", raw_sort):
        errors["sort"] = _("Enter a whole number.")
    row = {"code": code, "label_fr": label_fr, "label_en": label_en, "active": 1 if form.get("active") else 0}
    if table == "zones":
        for name, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
            raw = (form.get(name) or "").strip()
            if not raw:
                row[name] = None
                continue
            try:
                value = float(raw)
                if not lo <= value <= hi:
                    raise ValueError
                row[name] = round(value, 5)
            except ValueError:
                errors[name] = _("Enter a coordinate in decimal degrees.")
    known = bool(list(db.query(f"select 1 from [{table}] where code = ?", [code]))) if "code" not in errors else False
    if existing and "code" not in errors and not known:
        errors["code"] = _("Unknown code.")
    if not existing and known:
        errors["code"] = _("This code already exists.")
    if errors:
        raise AdminError(errors)
    row["sort"] = int(raw_sort)
    if existing:
        db[table].update(code, row)
    else:
        db[table].insert(row)
    audit.record(db, by, "reference_saved", table, code, label_fr=label_fr, active=row["active"])
    return code


def add_consent_text(db: Database, by: int, form: Mapping) -> str:
    """A new consent text version, made the current one (older versions stay: contacts refer to them)."""
    errors: dict[str, str] = {}
    version = (form.get("version") or "").strip()
    if not _VERSION.match(version):
        errors["version"] = _("A version has 1 to 40 letters, digits, dots, - or _.")
    elif list(db.query("select 1 from consent_texts where version = ?", [version])):
        errors["version"] = _("This version already exists; texts are never edited once used.")
    text_fr = _text(form, "text_fr", 20, 4000, errors, _("Enter a text of 20 to 4000 characters."))
    text_en = _text(form, "text_en", 20, 4000, errors, _("Enter a text of 20 to 4000 characters."))
    purpose = form.get("purpose") or "follow_up"
    if purpose not in refdata.CONSENT_PURPOSES:
        errors["purpose"] = _("Choose what the consent is for from the list.")
    if errors:
        raise AdminError(errors)
    # Only this purpose's current text changes; consents already given keep their version.
    db.execute("update consent_texts set active = 0 where purpose = ?", [purpose])
    db["consent_texts"].insert({"version": version, "purpose": purpose, "text_fr": text_fr, "text_en": text_en,
                                "created_at": now_iso(), "active": 1})
    audit.record(db, by, "consent_text_added", "consent_text", version, purpose=purpose)
    return version


def reference(db: Database) -> dict:
    out = {t: list(db.query(f"select * from [{t}] order by sort, code")) for t in REF_TABLES}
    out["consent_texts"] = list(db.query("select * from consent_texts order by purpose, created_at desc, version desc"))
    return out


# --- Open311 API keys (open311.py owns them and writes the audit lines) -------------------------


def api_keys(db: Database) -> list[dict]:
    """Every key (never the key itself: only its hash is stored), active first."""
    from .worksites import open311

    return sorted(open311.list_api_keys(db), key=lambda k: (-k["active"], -k["id"]))


def create_api_key(db: Database, by: int, name: str) -> str:
    """A new key for another civic app, shown once."""
    from .worksites import open311

    try:
        return open311.create_api_key(db, name, user_id=by)
    except ValueError:
        raise AdminError({"name": _("Name the application in 1 to 100 characters.")})


def revoke_api_key(db: Database, by: int, key_id: int) -> None:
    from .worksites import open311

    if not open311.revoke_api_key(db, key_id, user_id=by):
        raise AdminError(_("Unknown or already revoked key."))
