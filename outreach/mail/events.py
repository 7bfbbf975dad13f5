"""What each product event says, and to whom. Called inside the transaction of the change.

Every function takes the ``Outbox`` of the request (None: e-mail is off, nothing is queued).
Residents and volunteers are written to in the language they used (French by default); each
message about a worksite carries its private tracking link and a one-click unsubscribe link.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone

from sqlite_utils import Database

from .. import i18n
from . import Outbox, queue, unsubscribe
from .messages import Content

REMINDER_DAYS = 2


def _say(locale: str, build) -> Content:
    token = i18n.set_locale(locale)
    try:
        return build(i18n.gettext)
    finally:
        i18n._current.reset(token)


def _long_date(value: str, locale: str) -> str:
    from babel.dates import format_date

    try:
        return format_date(date.fromisoformat(value), format="full", locale=locale)
    except ValueError:
        return value


# --- accounts -------------------------------------------------------------------------------


def _link_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def invitation(db: Database, outbox: Outbox | None, *, email: str, role_label: str, url: str, days: int,
               locale: str | None = None) -> bool:
    if outbox is None:
        return False
    locale = locale or outbox.default_locale
    content = _say(locale, lambda _: Content(
        subject=_("You are invited to Outreach"),
        greeting=_("Hello,"),
        paragraphs=[_("An administrator invited you to Outreach, the field tool of the participation team, as %(role)s.")
                    % {"role": role_label},
                    _("Choose your name and password with the link below. It works once, for %(days)d days.") % {"days": days}],
        action=(_("Accept the invitation"), url)))
    return queue.enqueue(db, kind="invitation", event=f"invitation:{_link_id(url)}", recipient=email, name=None,
                         locale=locale, content=content, ref_type="invitation", ref_id=_link_id(url))


def password_reset(db: Database, outbox: Outbox | None, *, user: dict, url: str, days: int) -> bool:
    if outbox is None:
        return False
    locale = user.get("locale") or outbox.default_locale
    content = _say(locale, lambda _: Content(
        subject=_("Choose a new Outreach password"),
        greeting=_("Hello %(name)s,") % {"name": user.get("display_name") or ""},
        paragraphs=[_("An administrator made you a link to choose a new password. It works once, for %(days)d days.")
                    % {"days": days},
                    _("If you did not ask for it, tell your administrator.")],
        action=(_("Choose a new password"), url)))
    return queue.enqueue(db, kind="password_reset", event=f"reset:{_link_id(url)}", recipient=user["email"],
                         name=user.get("display_name"), locale=locale, content=content, ref_type="user", ref_id=user["id"])


# --- residents who reported a worksite ---------------------------------------------------------


def report_changed(db: Database, outbox: Outbox | None, report_id: str, event_id: int) -> bool:
    """A public change of a report (state, reply, date): tell its reporter, if they left an e-mail."""
    if outbox is None:
        return False
    from ..worksites import states
    from ..worksites.public import tracking_token

    contact = db.execute("select name, email, locale from report_contacts where report_id = ?", [report_id]).fetchone()
    if not contact or not contact[1]:
        return False
    name, email, locale = contact[0], contact[1], contact[2] or outbox.default_locale
    report = db.execute("select title, status, public_reply, decline_reason, scheduled_for from reports where id = ?",
                        [report_id]).fetchone()
    title, status, reply, reason, scheduled = report
    event = db.execute("select kind, text from report_events where id = ?", [event_id]).fetchone()
    track = outbox.url(f"/track/{tracking_token(outbox.signer, report_id)}")
    stop = unsubscribe.url(outbox, "report", report_id)

    def build(_):
        lines = []
        if event and event[0] == "reply":
            lines.append(_("The city answered about your report “%(title)s”:") % {"title": title})
            lines.append(event[1] or "")
        else:
            lines.append(_("Your report “%(title)s” is now: %(state)s.") % {"title": title, "state": states.label(status)})
            if status == states.SCHEDULED and scheduled:
                lines.append(_("The work is planned for %(date)s.") % {"date": _long_date(scheduled, locale)})
            if status == states.DECLINED and reason:
                lines.append(reason)
            if status == states.NEEDS_INFO and reply:
                lines.append(reply)
        return Content(subject=_("Your report: %(title)s") % {"title": title},
                       greeting=_("Hello %(name)s,") % {"name": name} if name else _("Hello,"),
                       paragraphs=lines, action=(_("Follow your report"), track), unsubscribe_url=stop,
                       footer=[_("You receive this because you left your e-mail address with your report.")])

    return queue.enqueue(db, kind="report_update", event=f"report:{report_id}:{event_id}", recipient=email, name=name,
                         locale=locale, content=_say(locale, build), ref_type="report", ref_id=report_id)


# --- volunteers of a worksite --------------------------------------------------------------------


def _volunteers(db: Database, report_id: str) -> list[dict]:
    return list(db.query("select id, name, email, locale from report_volunteers where report_id = ?"
                         " and email is not null and email != ''", [report_id]))


def _meeting_point(db: Database, report_id: str) -> tuple[str, str]:
    row = db.execute("select title, coalesce(nullif(address, ''), ''), coalesce(where_detail, '') from reports"
                     " where id = ?", [report_id]).fetchone()
    place = ", ".join(p for p in (row[1], row[2]) if p)
    return row[0], place


def _date_messages(db: Database, outbox: Outbox, report_id: str, v: dict, day: str, *, moved: bool,
                   title: str, place: str, now: datetime | None = None) -> bool:
    """Queue one volunteer's date message and, if still ahead, their reminder two days before."""
    locale = v["locale"] or outbox.default_locale
    stop = unsubscribe.url(outbox, "volunteer", v["id"])

    def build(_, reminder=False):
        when = _long_date(day, locale)
        if reminder:
            first = _("A reminder: the worksite “%(title)s” you signed up for takes place on %(date)s.")
        elif moved:
            first = _("The worksite “%(title)s” you signed up for has moved to %(date)s.")
        else:
            first = _("The worksite “%(title)s” you signed up for takes place on %(date)s.")
        lines = [first % {"title": title, "date": when}]
        if place:
            lines.append(_("Meeting point: %(place)s.") % {"place": place})
        return Content(subject=(_("Reminder: %(title)s, %(date)s") if reminder else _("Worksite %(title)s: %(date)s"))
                       % {"title": title, "date": when},
                       greeting=_("Hello %(name)s,") % {"name": v["name"]} if v["name"] else _("Hello,"),
                       paragraphs=lines, unsubscribe_url=stop,
                       footer=[_("You receive this because you signed up to take part in this worksite.")])

    kind = "volunteer_moved" if moved else "volunteer_scheduled"
    queued = queue.enqueue(db, kind=kind, event=f"volunteer:{report_id}:date:{day}", recipient=v["email"],
                           name=v["name"], locale=locale, content=_say(locale, build),
                           ref_type="volunteer", ref_id=v["id"])
    try:
        remind_at = datetime.combine(date.fromisoformat(day) - timedelta(days=REMINDER_DAYS), time(8), timezone.utc)
    except ValueError:
        return queued
    # A reminder due already would arrive with the date itself: the date message is enough.
    if remind_at > (now or queue.utcnow()):
        queue.enqueue(db, kind="volunteer_reminder", event=f"volunteer:{report_id}:reminder:{day}", recipient=v["email"],
                      name=v["name"], locale=locale, content=_say(locale, lambda _: build(_, reminder=True)),
                      ref_type="volunteer", ref_id=v["id"], not_before=remind_at)
    return queued


def volunteers_scheduled(db: Database, outbox: Outbox | None, report_id: str, day: str, previous: str | None) -> int:
    """The date and meeting point, now; a reminder two days before (queued now, due then);
    when the date moved, the reminder for the old date is cancelled and the new one said."""
    if outbox is None:
        return 0
    queue.cancel(db, f"volunteer:{report_id}:reminder:")
    title, place = _meeting_point(db, report_id)
    moved = bool(previous and previous != day)
    return sum(_date_messages(db, outbox, report_id, v, day, moved=moved, title=title, place=place)
               for v in _volunteers(db, report_id))


def volunteer_joined(db: Database, outbox: Outbox | None, report_id: str, volunteer_id: int) -> bool:
    """Someone signed up to a worksite already scheduled: they get the date, the meeting point and
    the reminder the others got (the same events, so the reminder follows the date if it moves)."""
    if outbox is None:
        return False
    from ..worksites import states

    row = db.execute("select status, scheduled_for from reports where id = ?", [report_id]).fetchone()
    if not row or row[0] != states.SCHEDULED or not row[1] or row[1] < queue.utcnow().date().isoformat():
        return False
    volunteer = db.execute("select id, name, email, locale from report_volunteers where id = ?"
                           " and email is not null and email != ''", [volunteer_id]).fetchone()
    if not volunteer:
        return False
    title, place = _meeting_point(db, report_id)
    v = dict(zip(("id", "name", "email", "locale"), volunteer))
    return _date_messages(db, outbox, report_id, v, row[1], moved=False, title=title, place=place)


def volunteers_cancelled(db: Database, outbox: Outbox | None, report_id: str, day: str | None) -> int:
    """The worksite will not take place (declined or merged into another): a word, and no reminder."""
    if outbox is None:
        return 0
    queue.cancel(db, f"volunteer:{report_id}:reminder:")
    title, _place = _meeting_point(db, report_id)
    sent = 0
    for v in _volunteers(db, report_id):
        locale = v["locale"] or outbox.default_locale
        content = _say(locale, lambda _: Content(
            subject=_("Worksite cancelled: %(title)s") % {"title": title},
            greeting=_("Hello %(name)s,") % {"name": v["name"]} if v["name"] else _("Hello,"),
            paragraphs=[_("The worksite “%(title)s” you signed up for will not take place as planned.") % {"title": title},
                        _("Thank you for your will to help; we will write again if it is planned anew.")],
            unsubscribe_url=unsubscribe.url(outbox, "volunteer", v["id"])))
        sent += queue.enqueue(db, kind="volunteer_cancelled", event=f"volunteer:{report_id}:cancelled:{day or ''}",
                              recipient=v["email"], name=v["name"], locale=locale, content=content,
                              ref_type="volunteer", ref_id=v["id"])
    return sent
