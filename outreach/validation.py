"""Field-by-field checks of synced data: each failure names the field and says why, in the user's language."""

from __future__ import annotations

import math
import os
import re
import uuid
from datetime import datetime, timedelta, timezone

from .i18n import gettext as _

UTC = timezone.utc

# The one e-mail, phone and device-id rule of the product (sync, reports, volunteers, admin,
# privacy look-ups). A plain ASCII domain: what a mail server here will deliver to.
EMAIL_MAX = 254
# Patterns are written for JSON Schema too (openapi.py): check with the is_* functions below,
# which match the whole string (a trailing newline is refused).
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,24}$")
PHONE_MAX = 25  # the longest text PHONE_RE accepts
# Chosen by the phone (a UUID today); letters, digits, - and _ only, so it is safe in any log.
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
# Control characters other than tab and newlines have no place in a note typed on a phone.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 date-time with an offset, or None when it is not one."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed


UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_text(value: object) -> bool:
    """A str that is valid Unicode text (JSON can carry a lone surrogate such as \\ud800, which
    no UTF-8 store accepts)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_email(value: object) -> bool:
    """An e-mail address as the product accepts it anywhere (compare lowercased)."""
    return isinstance(value, str) and len(value) <= EMAIL_MAX and EMAIL_RE.fullmatch(value) is not None


def is_phone(value: object) -> bool:
    """A phone number as people write it: digits, spaces, dots, dashes, brackets, a leading +."""
    return isinstance(value, str) and PHONE_RE.fullmatch(value) is not None


def is_device_id(value: object) -> bool:
    """A device id as the phone makes it: 8 to 64 letters, digits, - or _."""
    return isinstance(value, str) and DEVICE_ID_RE.fullmatch(value) is not None


def is_uuid(value: object) -> bool:
    """A UUID written in its canonical 36-character form."""
    return isinstance(value, str) and len(value) == 36 and UUID_RE.match(value) is not None


def uuid7(now: datetime | None = None) -> str:
    """A UUID version 7 (RFC 9562): 48 bits of milliseconds, then random bits, as the phone makes them."""
    ms = int((now or datetime.now(timezone.utc)).timestamp() * 1000)
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


def uuid7_time(value: object) -> datetime | None:
    """The time a UUID version 7 was made (UTC, to the millisecond), or None for any other value."""
    if not is_uuid(value) or value[14] != "7":
        return None
    return datetime.fromtimestamp(int(value.replace("-", "")[:12], 16) / 1000, timezone.utc)


def is_int(value: object) -> bool:
    # JSON true/false arrive as Python bools, which are ints: refuse them.
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    # An int is always finite (and math.isfinite() overflows on one of 400 digits).
    return is_int(value) or (isinstance(value, float) and math.isfinite(value))


class Valid:
    """The result of a check that found nothing wrong (the fast path of a validator)."""

    __slots__ = ("clean", "errors", "plain")

    def __init__(self, clean: dict, *, plain: bool = False):
        self.clean = clean
        self.errors: dict[str, str] = {}
        # The validator knows that every number of the data writes the same in orjson as in
        # json (canonical.canonical_bytes may skip looking for itself).
        self.plain = plain


class Check:
    """Collects the clean value of each field of one object and an error for each bad one."""

    def __init__(self, data: dict, prefix: str = "data."):
        self.data = data
        self.prefix = prefix
        self.errors: dict[str, str] = {}
        self.clean: dict = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(self.prefix + field, message)

    def only(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                name = key if isinstance(key, str) and len(key) <= 40 else "?"
                self.fail(name, _("unknown field"))

    def missing(self, field: str, required: bool) -> bool:
        """True when the field is absent (and records an error if it was required)."""
        if field in self.data:
            return False
        if required:
            self.fail(field, _("is required"))
        return True

    def nested(self, field: str) -> "Check | None":
        """A Check of the object in ``field``, which may be null: None (its clean value None) when
        it is null, or not an object (then recorded as an error)."""
        value = self.data.get(field)
        self.clean[field] = None
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(field, _("must be null or an object"))
            return None
        return Check(value, prefix=f"{self.prefix}{field}.")

    def integer(self, field: str, low: int, high: int, *, required: bool = True, default: int | None = None):
        if self.missing(field, required):
            self.clean[field] = default
            return default
        value = self.data[field]
        if not is_int(value):
            self.fail(field, _("must be a whole number"))
        elif not low <= value <= high:
            self.fail(field, _("must be between {low} and {high}").format(low=low, high=high))
        else:
            self.clean[field] = value
        return self.clean.get(field)

    def choice(self, field: str, choices, *, required: bool = True, nullable: bool = False, default=None):
        if self.missing(field, required):
            self.clean[field] = default
            return default
        value = self.data[field]
        if value is None and nullable:
            self.clean[field] = None
        elif not isinstance(value, str) or value not in choices:
            self.fail(field, _("must be one of: {choices}").format(choices=", ".join(sorted(choices))))
        else:
            self.clean[field] = value
        return self.clean.get(field)

    def text(self, field: str, max_len: int, *, min_len: int = 0, required: bool = False, nullable: bool = False,
             lines: str | None = None):
        """Text, stripped; ``lines="one"`` also folds inner whitespace to single spaces (a title),
        ``lines="many"`` turns CRLF into LF (a description typed in a form)."""
        if self.missing(field, required):
            self.clean[field] = None if nullable else ""
            return self.clean[field]
        value = self.data[field]
        if value is None and nullable:
            self.clean[field] = None
            return None
        if not isinstance(value, str):
            self.fail(field, _("must be text"))
            return None
        value = value.strip()
        if lines == "one":
            value = " ".join(value.split())
        elif lines == "many":
            value = value.replace("\r\n", "\n")
        if CONTROL_RE.search(value):
            self.fail(field, _("contains control characters"))
        elif len(value) > max_len:
            self.fail(field, _("must be at most {n} characters").format(n=max_len))
        elif len(value) < min_len:
            self.fail(field, _("must be at least {n} characters").format(n=min_len))
        else:
            self.clean[field] = value
        return self.clean.get(field)

    def time(self, field: str, now: datetime, *, ahead: timedelta, back: timedelta, required: bool = True, nullable: bool = False):
        """A date-time with an offset, within [now - back, now + ahead]; kept as UTC ISO text."""
        if self.missing(field, required):
            self.clean[field] = None
            return None
        value = self.data[field]
        if value is None and nullable:
            self.clean[field] = None
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.fail(field, _("must be a date and time with a time zone offset (ISO 8601)"))
        elif parsed > now + ahead:
            self.fail(field, _("is too far in the future"))
        elif parsed < now - back:
            self.fail(field, _("is too far in the past"))
        else:
            self.clean[field] = parsed
        return self.clean.get(field)

    def uuid(self, field: str, *, nullable: bool = True):
        if self.missing(field, False):
            self.clean[field] = None
            return None
        value = self.data[field]
        if value is None and nullable:
            self.clean[field] = None
        elif not is_uuid(value):
            self.fail(field, _("must be a UUID"))
        else:
            self.clean[field] = value.lower()
        return self.clean.get(field)

    def codes(self, field: str, allowed: set[str], *, max_items: int = 50):
        """A list of distinct codes, each from ``allowed`` (may be empty)."""
        if self.missing(field, False):
            self.clean[field] = []
            return []
        value = self.data[field]
        if not isinstance(value, list) or len(value) > max_items:
            self.fail(field, _("must be a list of codes"))
        elif not all(isinstance(v, str) for v in value):
            self.fail(field, _("must be a list of codes"))
        elif len(set(value)) != len(value):
            self.fail(field, _("must not repeat a code"))
        elif unknown := [v for v in value if v not in allowed]:
            self.fail(field, _("unknown code: {code}").format(code=str(unknown[0])[:40]))
        else:
            self.clean[field] = list(value)
        return self.clean.get(field)

    def boolean(self, field: str, *, default: bool = False):
        """JSON true or false (not "yes", not 1)."""
        if self.missing(field, False):
            self.clean[field] = default
            return default
        value = self.data[field]
        if not isinstance(value, bool):
            self.fail(field, _("must be true or false"))
            return None
        self.clean[field] = value
        return value

    def location(self, field: str, *, decimals: int = 3, min_accuracy: int = 100):
        """null or {lat, lon, accuracy_m}, rounded to about 100 m (three decimals) unless told otherwise."""
        if self.missing(field, False):
            self.clean[field] = None
            return None
        value = self.data[field]
        if value is None:
            self.clean[field] = None
            return None
        if not isinstance(value, dict) or set(value) - {"lat", "lon", "accuracy_m"}:
            self.fail(field, _("must be an object with lat, lon and accuracy_m"))
            return None
        lat, lon, acc = value.get("lat"), value.get("lon"), value.get("accuracy_m")
        if not is_number(lat) or not -90 <= lat <= 90:
            self.fail(field + ".lat", _("must be a latitude between -90 and 90"))
        if not is_number(lon) or not -180 <= lon <= 180:
            self.fail(field + ".lon", _("must be a longitude between -180 and 180"))
        if acc is not None and (not is_number(acc) or not 0 <= acc <= 100_000):
            self.fail(field + ".accuracy_m", _("must be between {low} and {high}").format(low=0, high=100000))
        if any(k.startswith(self.prefix + field) for k in self.errors):
            return None
        # Three decimals is about 111 m of latitude (78 m of longitude here): enough to count
        # a neighbourhood, too coarse to point at a doorstep (a worksite needs its doorstep: six).
        self.clean[field] = {
            "lat": round(float(lat), decimals),
            "lon": round(float(lon), decimals),
            "accuracy_m": max(min_accuracy, int(round(acc))) if acc is not None else None,
        }
        return self.clean[field]


def iso_utc(value: datetime) -> str:
    """A time as stored: UTC, to the second (``2026-11-30T09:02:11+00:00``)."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


class Refused(ValueError):
    """A valid entry that what is already stored forbids (a contact with too many open reports):
    raised by a kind's store function; the entry is answered ``rejected`` with these errors."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# JSON numbers beyond what a phone's JavaScript can hold exactly (and far beyond SQLite's 64 bits).
MAX_SAFE_INTEGER = 2**53 - 1


def hostile_values(value: object, path: str = "data", _depth: int = 0) -> dict[str, str]:
    """Errors for values no field may hold, wherever they sit in an entry: text that is not valid
    Unicode (a lone surrogate such as \\ud800, in a key or a value), whole numbers beyond ±2^53,
    infinite or NaN numbers. Checked before any field rule, so that no rule can overflow on them."""
    errors: dict[str, str] = {}
    if _depth > 32:
        errors[path] = _("is nested too deeply")
    elif isinstance(value, str):
        if not is_text(value):
            errors[path] = _("must contain only valid Unicode text")
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            errors[path] = _("is too large a number")
    elif isinstance(value, float):
        if not math.isfinite(value):
            errors[path] = _("is too large a number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not is_text(key):
                errors[f"{path}.?"] = _("must contain only valid Unicode text")
                continue
            errors.update(hostile_values(item, f"{path}.{key[:40]}", _depth + 1))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors.update(hostile_values(item, f"{path}[{index}]", _depth + 1))
    return errors


def echoed_id(entry: object) -> str | None:
    """An entry's id as a result may echo it: text of at most 64 characters, else None."""
    raw = entry.get("id") if isinstance(entry, dict) else None
    return raw if is_text(raw) and len(raw) <= 64 else None


def printable_errors(errors: dict) -> dict[str, str]:
    """Errors safe to answer as JSON: a field name echoed from the request may hold a lone surrogate."""
    def text(value: object) -> str:
        value = str(value)
        return value if is_text(value) else value.encode("utf-8", "replace").decode("utf-8")

    return {text(k): text(v) for k, v in errors.items()}
