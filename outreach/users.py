"""Accounts: creation, password hashing (scrypt), sign-in checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlite_utils import Database

from . import vocab
from .i18n import gettext as _
from .refdata import now_iso

ROLES = vocab.ROLES.codes
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[^@\s<>\"']{2,63}$")
MIN_PASSWORD = 10
# scrypt parameters: n=2**14, r=8 uses 16 MiB and ~50 ms here, the interactive-login range.
_N, _R, _P = 2**14, 8, 1


class UserError(ValueError):
    """An account operation refused, with a message for a person."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_N}${_R}${_P}${b64(salt)}${b64(digest)}"


def check_password(stored: str, password: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


# Checked against when the email is unknown, so that both answers take the same time.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        raise UserError(_("Enter a valid email address."))
    return email


def create_user(db: Database, email: str, password: str, role: str, display_name: str | None = None) -> dict:
    """Create an account; raises UserError for a bad email, role, short password or a taken email."""
    email = validate_email(email)
    if role not in ROLES:
        raise UserError(_("The role must be field, coordinator or admin."))
    if len(password) < MIN_PASSWORD:
        raise UserError(_("The password must have at least %(n)s characters.") % {"n": MIN_PASSWORD})
    name = (display_name or email.split("@")[0]).strip()[:80]
    with db.atomic():
        existing = db.execute("select 1 from users where email = ?", [email]).fetchone()
        if existing:
            raise UserError(_("An account with this email address already exists."))
        db["users"].insert(
            {
                "email": email,
                "display_name": name,
                "role": role,
                "password_hash": hash_password(password),
                "active": 1,
                "session_epoch": 0,
                "created_at": now_iso(),
            }
        )
    return get_by_email(db, email)


def get(db: Database, user_id: int) -> dict | None:
    rows = list(db.query("select * from users where id = ?", [user_id]))
    return rows[0] if rows else None


def get_by_email(db: Database, email: str) -> dict | None:
    rows = list(db.query("select * from users where email = ?", [normalise_email(email)]))
    return rows[0] if rows else None


def authenticate(db: Database, email: str, password: str) -> dict | None:
    """The active user with this email and password, else None (same work either way)."""
    user = get_by_email(db, email) if len(email) <= 320 else None
    if user is None:
        check_password(_DUMMY_HASH, password)
        return None
    if not check_password(user["password_hash"], password) or not user["active"]:
        return None
    return user


def start_session(db: Database, user_id: int, max_age: int) -> str:
    """A new server-side session for this account (its id goes in the signed cookie)."""
    sid = secrets.token_urlsafe(24)
    now = now_iso()
    with db.atomic():
        db.execute("insert into sessions (id, user_id, created_at) values (?, ?, ?)", [sid, user_id, now])
        # Sessions past their age are dead anyway: drop this account's, so the table stays small.
        db.execute("delete from sessions where user_id = ? and created_at < datetime('now', ?)",
                   [user_id, f"-{int(max_age)} seconds"])
    return sid


def session_user(db: Database, user_id: int, sid: str) -> dict | None:
    """The account of a live session, or None when signed out (row gone) or unknown."""
    # conn.execute, not db.query: on every request, on the event loop (sqlite-utils wraps a query in a savepoint)
    cursor = db.conn.execute("select u.* from sessions s join users u on u.id = s.user_id where s.id = ? and s.user_id = ?",
                             [sid, user_id])
    row = cursor.fetchone()
    return None if row is None else dict(zip([c[0] for c in cursor.description], row))


def end_session(db: Database, sid: str) -> None:
    """Sign out this session, on the server: its cookie opens nothing any more."""
    db.execute("delete from sessions where id = ?", [sid])


def public(user: dict) -> dict:
    """What the client may see of an account."""
    return {"id": user["id"], "email": user["email"], "display_name": user["display_name"], "role": user["role"]}
