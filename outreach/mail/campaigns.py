"""A coordinator's message to the follow-up contacts of one purpose (e-mail channel only).

Written once from a template (``{name}`` becomes each contact's name), previewed, then queued
for every contact who consented to that purpose by e-mail, each with a link that withdraws that
consent. Phone and SMS contacts are not messaged: they stay a list to call (/coordinator/followups).
"""

from __future__ import annotations

from sqlite_utils import Database

from .. import audit, i18n, refdata
from . import Outbox, messages, queue, unsubscribe
from .messages import Content

SUBJECT = (3, 150)
BODY = (10, 5000)


class CampaignError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def check(db: Database, purpose: object, subject: object, body: object) -> dict:
    """The campaign's clean fields, or CampaignError naming each bad field."""
    _ = i18n.gettext
    errors = {}
    if purpose not in refdata.codes(db, "tools"):
        errors["purpose"] = _("choose one of the participatory tools")
    subject = messages.one_line(subject if isinstance(subject, str) else "", 1000)
    if not SUBJECT[0] <= len(subject) <= SUBJECT[1]:
        errors["subject"] = _("between %(lo)d and %(hi)d characters") % {"lo": SUBJECT[0], "hi": SUBJECT[1]}
    body = (body if isinstance(body, str) else "").replace("\r\n", "\n").strip()
    if not BODY[0] <= len(body) <= BODY[1]:
        errors["body"] = _("between %(lo)d and %(hi)d characters") % {"lo": BODY[0], "hi": BODY[1]}
    if errors:
        raise CampaignError(errors)
    return {"purpose": purpose, "subject": subject, "body": body}


def recipients(db: Database, purpose: str) -> list[dict]:
    return list(db.query(
        "select id, contact as email, name, locale from contacts c where channel = 'email' and expires_at > ?"
        " and exists (select 1 from json_each(c.purposes) p where p.value = ?) order by consented_at",
        [refdata.now_iso(), purpose]))


def to_call(db: Database, purpose: str) -> int:
    """Contacts of this purpose who chose the phone or SMS: a coordinator calls them instead."""
    return db.execute(
        "select count(*) from contacts c where channel != 'email' and expires_at > ?"
        " and exists (select 1 from json_each(c.purposes) p where p.value = ?)", [refdata.now_iso(), purpose]).fetchone()[0]


def _content(fields: dict, name: str | None, stop_url: str | None, locale: str) -> Content:
    token = i18n.set_locale(locale)
    try:
        _ = i18n.gettext
        return Content(subject=fields["subject"], greeting=_("Hello %(name)s,") % {"name": name} if name else _("Hello,"),
                       paragraphs=[p.replace("{name}", name or "").strip() for p in fields["body"].split("\n\n") if p.strip()],
                       unsubscribe_url=stop_url,
                       footer=[_("You receive this because you asked the participation team to keep you informed.")])
    finally:
        i18n._current.reset(token)


def preview(db: Database, fields: dict, locale: str = "fr") -> dict:
    """What the first recipient would read (or a sample), and how many would receive it."""
    people = recipients(db, fields["purpose"])
    sample = people[0] if people else {"name": None, "locale": locale}
    subject, text, _html = messages.render(_content(fields, sample["name"], "https://…/unsubscribe/…",
                                                    sample["locale"] or locale), sample["locale"] or locale)
    return {"subject": subject, "text": text, "recipients": len(people), "to_call": to_call(db, fields["purpose"])}


def send(db: Database, outbox: Outbox, user_id: int, fields: dict) -> int:
    """Record the campaign and queue one message per consenting e-mail contact; its id."""
    people = recipients(db, fields["purpose"])
    campaign_id = db["mail_campaigns"].insert({
        **fields, "locale": outbox.default_locale, "created_by": user_id, "created_at": refdata.now_iso(),
        "recipients": len(people)}).last_pk
    for person in people:
        locale = person["locale"] or outbox.default_locale
        stop = unsubscribe.url(outbox, "contact", person["id"], fields["purpose"])
        queue.enqueue(db, kind="campaign", event=f"campaign:{campaign_id}", recipient=person["email"],
                      name=person["name"], locale=locale, content=_content(fields, person["name"], stop, locale),
                      ref_type="contact", ref_id=person["id"])
    audit.record(db, user_id, "mail.campaign", "campaign", campaign_id, purpose=fields["purpose"], recipients=len(people))
    return campaign_id


def listing(db: Database) -> list[dict]:
    return list(db.query(
        "select c.id, c.purpose, c.subject, c.created_at, c.recipients,"
        " (select count(*) from mail_queue q where q.event = 'campaign:' || c.id and q.status = 'sent') as sent,"
        " (select count(*) from mail_queue q where q.event = 'campaign:' || c.id and q.status = 'failed') as failed"
        " from mail_campaigns c order by c.id desc limit 100"))


def detail(db: Database, campaign_id: int) -> dict | None:
    row = db.execute("select id, purpose, subject, body, created_at, recipients from mail_campaigns where id = ?",
                     [campaign_id]).fetchone()
    if not row:
        return None
    campaign = dict(zip(("id", "purpose", "subject", "body", "created_at", "recipients"), row))
    campaign["messages"] = list(db.query(
        "select recipient, recipient_name, status, attempts, sent_at, last_error from mail_queue"
        " where event = ? order by id", [f"campaign:{campaign_id}"]))
    return campaign
