"""The product's vocabulary: every fixed code, in order, with its one label; and the one table of limits.

A code list (place types, outcomes, report states, roles …) and the bounds of a field (1–200
people, a 500-character note …) are written here and nowhere else: validation, stats, lists,
exports, the OpenAPI schema, templates (the ``limits`` Jinja global) and the phone (through
``GET /api/v1/bootstrap``) all read them from this module. Two copies drift; one cannot.

Labels are English msgids, translated when shown (``label(code)`` in the request's language,
``label(code, locale)`` in a given one, e.g. for an export streamed in another thread). Codes
are stored in the database and sent by phones: never rename one, add new ones at the end of
their list if order does not matter to people, else where they read best.
Reference data that admins edit (zones, participatory tools, worksite categories) lives in the
database, not here (see ``refdata.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from . import i18n


def _(message: str) -> str:
    """Mark a label for extraction (tools/i18n.py); it is translated when shown, not here."""
    return message


@dataclass(frozen=True)
class Choices:
    """One closed list of codes, in the order people read them, each with its label (an English msgid).

    Iterating gives the codes and ``code in choices`` checks one, so a ``Choices`` stands
    wherever a tuple of codes did.
    """

    msgids: dict[str, str]

    def __iter__(self) -> Iterator[str]:
        return iter(self.msgids)

    def __contains__(self, code: object) -> bool:
        return code in self.msgids

    def __len__(self) -> int:
        return len(self.msgids)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.msgids)

    def label(self, code: str, locale: str | None = None) -> str:
        """The label of ``code`` in ``locale`` (default: the current request's); unknown codes as they are."""
        msgid = self.msgids.get(code)
        if msgid is None:
            return code
        return i18n.gettext(msgid) if locale is None else i18n.catalog(locale).get(msgid, msgid)

    def plain(self, locale: str | None = None) -> dict[str, str]:
        """Code → label, in order (for selects, charts, templates and bootstrap)."""
        return {code: self.label(code, locale) for code in self.msgids}

    def pairs(self, locale: str | None = None) -> list[tuple[str, str]]:
        """(code, label) pairs, in order."""
        return list(self.plain(locale).items())


# --- encounters -------------------------------------------------------------------------------

PLACE_TYPES = Choices({
    "street": _("Street"),
    "market": _("Market"),
    "school_gate": _("School gate"),
    "building_entrance": _("Building entrance"),
    "transport": _("Transport stop"),
    "shop": _("Shop"),
    "event": _("Event"),
    "other": _("Other place"),
})
OUTCOMES = Choices({
    "conversation": _("Real conversation"),
    "brief": _("Brief exchange"),
    "flyer_only": _("Flyer only"),
    "declined": _("Declined to talk"),
    "already_informed": _("Already informed"),
})
INTERESTS = Choices({
    "none": _("No particular interest"),
    "curious": _("Curious"),
    "wants_to_take_part": _("Wants to take part"),
})
AGE_BANDS = Choices({
    "under_18": _("Under 18"),
    "18_29": _("18–29"),
    "30_44": _("30–44"),
    "45_64": _("45–64"),
    "65_plus": _("65 and over"),
})
# The languages the phone offers; an encounter may carry any language code (validation.LANGUAGE_RE).
# Each is named in itself, so a resident can point at theirs; "und" (undetermined) is any other.
LANGUAGES = Choices({
    "fr": "Français", "en": "English", "ar": "العربية", "es": "Español", "it": "Italiano",
    "pt": "Português", "tr": "Türkçe", "ru": "Русский", "zh": "中文", "und": _("Another language"),
})
# How a person who consented to a follow-up wants to be reached.
CHANNELS = Choices({
    "email": _("Email"),
    "phone": _("Phone call"),
    "sms": _("Text message"),
})

# --- outings ----------------------------------------------------------------------------------

OUTING_FORMATS = Choices({
    "market": _("Market"),
    "building_foot": _("Foot of the building"),
    "walkabout": _("Walkabout"),
    "stand": _("Stand"),
    "door_to_door": _("Door to door"),
    "event": _("Event"),
})
OUTING_STATUSES = Choices({
    "planned": _("Planned"),
    "started": _("Under way"),
    "ended": _("Finished"),
})

# --- worksite reports (the rules of moving between states live in worksites/states.py) ---------

# A new report reads "Received" everywhere: the state a coordinator filters by, the resident's
# tracking page and its first history line ("Report received.") say the same thing.
REPORT_STATES = Choices({
    "submitted": _("Received"),
    "under_review": _("Under review"),
    "needs_info": _("Information needed"),
    "accepted": _("Accepted"),
    "scheduled": _("Scheduled"),
    "in_progress": _("In progress"),
    "done": _("Done"),
    "declined": _("Declined by the city"),
    "duplicate": _("Duplicate"),
})
# Where a report came from (the reports table's ``source``).
REPORT_SOURCES = Choices({
    "resident": _("Resident"),
    "field": _("Outreach team"),
    "open311": _("Partner app (Open311)"),
})

# --- accounts ---------------------------------------------------------------------------------

ROLES = Choices({
    "field": _("Outreach worker"),
    "coordinator": _("Coordinator"),
    "admin": _("Administrator"),
})

# Every list, by the name bootstrap and the tests know it by.
ALL: dict[str, Choices] = {
    "place_type": PLACE_TYPES,
    "outcome": OUTCOMES,
    "interest": INTERESTS,
    "age_band": AGE_BANDS,
    "language": LANGUAGES,
    "channel": CHANNELS,
    "format": OUTING_FORMATS,
    "outing_status": OUTING_STATUSES,
    "report_state": REPORT_STATES,
    "report_source": REPORT_SOURCES,
    "role": ROLES,
}


# --- limits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """The bounds of one field: characters of a text, items of a list, or a number's value."""

    max: int
    min: int = 0
    unit: str = "chars"  # "chars" | "items" | "value"

    def schema(self) -> dict:
        """The JSON Schema keywords for these bounds."""
        low, high = {"chars": ("minLength", "maxLength"), "items": ("minItems", "maxItems"),
                     "value": ("minimum", "maximum")}[self.unit]
        return ({low: self.min} if self.min else {}) | {high: self.max}


LIMITS: dict[str, Limit] = {
    # encounters
    "people_count": Limit(min=1, max=200, unit="value"),
    "note": Limit(max=500),
    "tools": Limit(max=50, unit="items"),
    "contact": Limit(min=3, max=200),  # a consented follow-up's e-mail address or phone number
    "name": Limit(max=100),  # a person's name: follow-up contact, reporter, volunteer
    # outings
    "debrief": Limit(max=2000),
    "members": Limit(max=30, unit="items"),
    "tally": Limit(max=100_000, unit="value"),
    # worksite reports
    "title": Limit(min=3, max=120),
    "description": Limit(max=4000),
    "address": Limit(max=300),
    "where_detail": Limit(max=300),
    "photos": Limit(max=5, unit="items"),
    "status_message": Limit(max=2000),  # a reason for declining, a request for information
    "reply": Limit(max=4000),  # a resident's answer, a coordinator's public reply
}


# The lists the phone shows, in bootstrap's ``choices`` (codes) and ``labels`` (code → label).
ON_THE_PHONE = ("place_type", "outcome", "interest", "age_band", "language", "channel", "format", "outing_status")


def limits_flat() -> dict[str, int]:
    """``{name}_min`` and ``{name}_max`` for every limit (the shape bootstrap sends)."""
    out: dict[str, int] = {}
    for name, limit in LIMITS.items():
        out[f"{name}_min"] = limit.min
        out[f"{name}_max"] = limit.max
    return out


def for_phone(locale: str | None = None) -> dict:
    """Bootstrap's part: ``choices`` (codes in order), ``labels`` (code → label in ``locale``), ``limits``."""
    return {
        "choices": {name: list(ALL[name]) for name in ON_THE_PHONE},
        "labels": {name: ALL[name].plain(locale) for name in ON_THE_PHONE},
        "limits": limits_flat(),
    }
