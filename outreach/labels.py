"""Labels of the fixed vocabularies (outcomes, interest, place types, formats, states) for pages."""

from __future__ import annotations

from .i18n import lazy_gettext

OUTCOMES = {
    "conversation": lazy_gettext("Conversation"),
    "brief": lazy_gettext("Brief exchange"),
    "flyer_only": lazy_gettext("Flyer only"),
    "declined": lazy_gettext("Declined to talk"),
    "already_informed": lazy_gettext("Already informed"),
}
INTERESTS = {
    "none": lazy_gettext("No interest"),
    "curious": lazy_gettext("Curious"),
    "wants_to_take_part": lazy_gettext("Wants to take part"),
}
PLACE_TYPES = {
    "street": lazy_gettext("Street"),
    "market": lazy_gettext("Market"),
    "school_gate": lazy_gettext("School gate"),
    "building_entrance": lazy_gettext("Building entrance"),
    "transport": lazy_gettext("Public transport"),
    "shop": lazy_gettext("Shop"),
    "event": lazy_gettext("Event"),
    "other": lazy_gettext("Other place"),
}
FORMATS = {
    "market": lazy_gettext("Market"),
    "building_foot": lazy_gettext("Foot of the building"),
    "walkabout": lazy_gettext("Walkabout"),
    "stand": lazy_gettext("Stand"),
    "door_to_door": lazy_gettext("Door to door"),
    "event": lazy_gettext("Event"),
}
OUTING_STATUSES = {
    "planned": lazy_gettext("Planned"),
    "started": lazy_gettext("Under way"),
    "ended": lazy_gettext("Finished"),
}
REPORT_STATES = {
    "submitted": lazy_gettext("Submitted"),
    "under_review": lazy_gettext("Under review"),
    "needs_info": lazy_gettext("Needs information"),
    "accepted": lazy_gettext("Accepted"),
    "scheduled": lazy_gettext("Scheduled"),
    "in_progress": lazy_gettext("In progress"),
    "done": lazy_gettext("Done"),
    "declined": lazy_gettext("Declined"),
    "duplicate": lazy_gettext("Duplicate"),
}
ROLES = {
    "field": lazy_gettext("Outreach worker"),
    "coordinator": lazy_gettext("Coordinator"),
    "admin": lazy_gettext("Administrator"),
}
AGE_BANDS = {
    "under_18": lazy_gettext("Under 18"),
    "18_29": lazy_gettext("18–29 years"),
    "30_44": lazy_gettext("30–44 years"),
    "45_64": lazy_gettext("45–64 years"),
    "65_plus": lazy_gettext("65 and over"),
}
CHANNELS = {"email": lazy_gettext("Email"), "phone": lazy_gettext("Phone"), "sms": lazy_gettext("Text message")}


def plain(labels: dict) -> dict[str, str]:
    """The labels as plain strings in the current language (for charts and selects)."""
    return {k: str(v) for k, v in labels.items()}
