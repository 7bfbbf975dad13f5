"""E-mail that leaves: a real SMTP server receives what each event queues, once, in the right language.

The app under test has SMTP configured but its clients do not run the lifespan, so the test
decides when the sender runs (``send_due`` with an explicit time): no waiting, no races.
"""

from __future__ import annotations

import dataclasses
import re
import smtplib
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from outreach.app import create_app
from outreach.mail import messages, queue, sender
from tests.conftest import PASSWORD, make_settings
from tests.coord_factories import add_contact, add_report
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 (fixture)

FROM = "Participation Grenoble <participation@example.org>"


def mail_settings(tmp_path, port, **over):
    return make_settings(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                         mail_from=FROM, base_url="https://outreach.example.org", **over)


@pytest.fixture
def mail_app(tmp_path, smtp_server):  # noqa: F811
    app = create_app(mail_settings(tmp_path, smtp_server.port))
    yield app
    app.state.store.close()


def signed_in(app, role: str, email: str | None = None, locale: str | None = None) -> TestClient:
    from outreach import users

    with app.state.store.write() as db:
        user = users.create_user(db, email or f"{role}@example.org", PASSWORD, role, None)
        if locale:
            db.execute("update users set locale = ? where id = ?", [locale, user["id"]])
    client = TestClient(app, base_url="http://testserver")  # no lifespan: the test runs the sender
    assert client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD}).status_code == 200
    client.user = user
    return client


def csrf(client, path="/coordinator") -> str:
    client.get(path)
    return client.cookies.get("outreach_csrf")


def send(app, now=None) -> dict:
    return sender.send_due(app.state.store, app.state.settings, now)


def link(text: str, prefix: str) -> str:
    return re.search(re.escape(prefix) + r"\S+", text).group(0)


# --- accounts ------------------------------------------------------------------------------------


def test_invitation_arrives_in_french_with_a_link_that_opens_the_invitation(mail_app, smtp_server):  # noqa: F811
    admin = signed_in(mail_app, "admin")
    r = admin.post("/admin/users/invite", data={"csrf_token": csrf(admin, "/admin/users"), "email": "camille@example.org",
                                                "role": "field"})
    assert r.status_code == 200 and "Envoyé par e-mail à camille@example.org" in r.text
    assert smtp_server.inbox.messages == []  # never sent inside the request
    assert send(mail_app)["sent"] == 1
    [got] = smtp_server.inbox.to("camille@example.org")
    assert got.message["Subject"] == "Vous êtes invité·e sur Outreach"
    assert got.message["From"].addresses[0].addr_spec == "participation@example.org"
    url = link(got.text(), "https://outreach.example.org/invite/")
    assert url in got.html()
    assert TestClient(mail_app).get(url.removeprefix("https://outreach.example.org")).status_code == 200


def test_password_reset_is_mailed_in_the_account_language(mail_app, smtp_server):  # noqa: F811
    admin = signed_in(mail_app, "admin")
    worker = signed_in(mail_app, "field", "sam@example.org", locale="en")
    r = admin.post(f"/admin/users/{worker.user['id']}/reset", data={"csrf_token": csrf(admin, "/admin/users")})
    assert r.status_code == 200
    send(mail_app)
    [got] = smtp_server.inbox.to("sam@example.org")
    assert got.message["Subject"] == "Choose a new Outreach password"
    assert link(got.text(), "https://outreach.example.org/reset/") in got.html()


def test_without_an_smtp_host_links_are_shown_and_nothing_is_queued(admin_client, store):
    r = admin_client.post("/admin/users/invite", data={"csrf_token": csrf(admin_client, "/admin/users"),
                                                       "email": "x@example.org", "role": "field"})
    assert "/invite/" in r.text and "Envoyé par e-mail" not in r.text
    assert store.db().execute("select count(*) from mail_queue").fetchone()[0] == 0


# --- residents and volunteers ---------------------------------------------------------------------------


def change(coordinator, rid, status, **extra):
    r = coordinator.post(f"/coordinator/reports/{rid}/status",
                         data={"csrf_token": csrf(coordinator), "status": status, **extra}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_resident_hears_each_public_change_with_tracking_and_one_click_unsubscribe(mail_app, smtp_server):  # noqa: F811
    store = mail_app.state.store
    with store.write() as db:
        rid = add_report(db, reporter={"name": "Léa", "email": "lea@example.org"})
    coordinator = signed_in(mail_app, "coordinator")
    change(coordinator, rid, "under_review")
    coordinator.post(f"/coordinator/reports/{rid}/reply", data={"csrf_token": csrf(coordinator), "text": "Merci, on regarde.",
                                                                "visibility": "public"})
    coordinator.post(f"/coordinator/reports/{rid}/reply", data={"csrf_token": csrf(coordinator), "text": "note interne",
                                                                "visibility": "internal"})
    send(mail_app)
    got = smtp_server.inbox.to("lea@example.org")
    assert [m.message["Subject"] for m in got] == ["Votre signalement : Banc cassé"] * 2
    assert "En cours d'examen" in got[0].text() or "examen" in got[0].text().lower()
    assert "Merci, on regarde." in got[1].text() and "note interne" not in got[1].text()
    track = link(got[0].text(), "https://outreach.example.org/track/")
    assert TestClient(mail_app).get(track.removeprefix("https://outreach.example.org")).status_code == 200
    assert "<img" not in got[0].html()  # no tracking pixel, no remote content
    stop = got[0].message["List-Unsubscribe"].strip("<>")
    assert got[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A link scanner opening the URL unsubscribes nobody; the one-click POST does.
    anonymous = TestClient(mail_app)
    assert anonymous.get(stop.removeprefix("https://outreach.example.org")).status_code == 200
    r = anonymous.post(stop.removeprefix("https://outreach.example.org"), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    assert store.db().execute("select email from report_contacts where report_id = ?", [rid]).fetchone()[0] is None
    change(coordinator, rid, "accepted")
    assert send(mail_app)["sent"] == 0 and len(smtp_server.inbox.to("lea@example.org")) == 2
    # The messages to that address went with it.
    assert store.db().execute("select count(*) from mail_queue where recipient = 'lea@example.org'").fetchone()[0] == 0


def add_volunteer(db, rid, name, email, locale=None):
    return db["report_volunteers"].insert({"report_id": rid, "name": name, "email": email, "phone": "", "locale": locale,
                                           "consent_text_version": "2026-01", "created_at": "2026-11-10T10:00:00+00:00"}).last_pk


def test_volunteers_get_the_date_a_reminder_two_days_before_and_word_when_it_moves_or_is_cancelled(mail_app, smtp_server):  # noqa: F811
    store = mail_app.state.store
    with store.write() as db:
        rid = add_report(db, status="accepted", title="Jardinière rue Très-Cloîtres")
        db.execute("update reports set address = '4 rue Très-Cloîtres' where id = ?", [rid])
        add_volunteer(db, rid, "Nour", "nour@example.org")
        add_volunteer(db, rid, "Sam", "sam@example.org", locale="en")
    coordinator = signed_in(mail_app, "coordinator")
    day = date.today() + timedelta(days=10)
    change(coordinator, rid, "scheduled", scheduled_for=day.isoformat())
    send(mail_app)
    [nour] = smtp_server.inbox.to("nour@example.org")
    assert nour.message["Subject"].startswith("Chantier Jardinière rue Très-Cloîtres")
    assert "Point de rendez-vous : 4 rue Très-Cloîtres." in nour.text()
    [sam] = smtp_server.inbox.to("sam@example.org")
    assert "Meeting point: 4 rue Très-Cloîtres." in sam.text()
    # The reminder waits until two days before.
    assert send(mail_app, datetime.now(timezone.utc) + timedelta(days=5))["sent"] == 0
    two_days_before = datetime.combine(day - timedelta(days=2), datetime.min.time(), timezone.utc) + timedelta(hours=9)
    assert send(mail_app, two_days_before)["sent"] == 2
    assert "Un rappel" in smtp_server.inbox.to("nour@example.org")[1].text()
    # Moved: a word with the new date, the reminder follows the new date only.
    later = day + timedelta(days=7)
    change(coordinator, rid, "scheduled", scheduled_for=later.isoformat())
    send(mail_app)
    assert "est déplacé au" in smtp_server.inbox.to("nour@example.org")[2].text()
    # Cancelled: a word, and no reminder for the last date.
    change(coordinator, rid, "declined", reason="Le bailleur refuse.")
    send(mail_app)
    assert smtp_server.inbox.to("nour@example.org")[3].message["Subject"].startswith("Chantier annulé")
    remind_new = datetime.combine(later - timedelta(days=2), datetime.min.time(), timezone.utc) + timedelta(hours=9)
    assert send(mail_app, remind_new)["sent"] == 0
    assert len(smtp_server.inbox.to("nour@example.org")) == 4


def join(app, rid, name, email, **client_options):
    """A resident signs up on /worksites, as the page's form sends it."""
    resident = TestClient(app, **client_options)
    r = resident.post(f"/worksites/{rid}/volunteer", follow_redirects=False, data={
        "csrf_token": csrf(resident, "/worksites"), "name": name, "email": email, "consent": "yes",
        "consent_text_version": "2026-01"})
    assert r.status_code == 303, r.text


def test_someone_who_joins_a_scheduled_worksite_gets_its_date_and_reminder_in_their_language(mail_app, smtp_server):  # noqa: F811
    store = mail_app.state.store
    with store.write() as db:
        rid = add_report(db, status="accepted", title="Fresque du préau")
        db.execute("update reports set address = '2 place Saint-Bruno' where id = ?", [rid])
    coordinator = signed_in(mail_app, "coordinator")
    day = date.today() + timedelta(days=10)
    change(coordinator, rid, "scheduled", scheduled_for=day.isoformat())
    join(mail_app, rid, "Nour", "nour@example.org")
    join(mail_app, rid, "Sam", "sam@example.org", cookies={"outreach_lang": "en"})
    join(mail_app, rid, "Sam", "sam@example.org", cookies={"outreach_lang": "en"})  # twice is once
    assert smtp_server.inbox.messages == []  # never sent inside the request
    send(mail_app)
    [nour] = smtp_server.inbox.to("nour@example.org")
    assert "Point de rendez-vous : 2 place Saint-Bruno." in nour.text()
    [sam] = smtp_server.inbox.to("sam@example.org")
    assert sam.message["Subject"].startswith("Worksite Fresque du préau")
    assert "takes place on" in sam.text() and "Meeting point: 2 place Saint-Bruno." in sam.text()
    assert sam.message["List-Unsubscribe"]
    # Their reminder follows the date like everyone's: moved, it goes for the new date only.
    later = day + timedelta(days=7)
    change(coordinator, rid, "scheduled", scheduled_for=later.isoformat())
    send(mail_app)
    assert "has moved to" in smtp_server.inbox.to("sam@example.org")[1].text()
    old_reminder = datetime.combine(day - timedelta(days=2), datetime.min.time(), timezone.utc) + timedelta(hours=9)
    assert send(mail_app, old_reminder)["sent"] == 0
    new_reminder = datetime.combine(later - timedelta(days=2), datetime.min.time(), timezone.utc) + timedelta(hours=9)
    assert send(mail_app, new_reminder)["sent"] == 2
    assert smtp_server.inbox.to("sam@example.org")[2].message["Subject"].startswith("Reminder: Fresque du préau")


def test_joining_a_worksite_two_days_ahead_brings_the_date_without_a_reminder_on_its_heels(mail_app, smtp_server):  # noqa: F811
    with mail_app.state.store.write() as db:
        rid = add_report(db, status="accepted")
    change(signed_in(mail_app, "coordinator"), rid, "scheduled", scheduled_for=(date.today() + timedelta(days=1)).isoformat())
    join(mail_app, rid, "Nour", "nour@example.org")
    send(mail_app, datetime.now(timezone.utc) + timedelta(hours=12))
    [only] = smtp_server.inbox.to("nour@example.org")
    assert "Un rappel" not in only.text()


def test_joining_a_worksite_not_yet_scheduled_sends_nothing_until_its_date(mail_app, smtp_server):  # noqa: F811
    with mail_app.state.store.write() as db:
        rid = add_report(db, status="accepted")
    join(mail_app, rid, "Nour", "nour@example.org", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert send(mail_app)["sent"] == 0
    change(signed_in(mail_app, "coordinator"), rid, "scheduled", scheduled_for=(date.today() + timedelta(days=9)).isoformat())
    send(mail_app)
    [got] = smtp_server.inbox.to("nour@example.org")
    assert got.message["Subject"].startswith("Worksite ")  # in the language they signed up in


def test_volunteers_carried_over_to_a_scheduled_original_get_its_date(mail_app, smtp_server):  # noqa: F811
    with mail_app.state.store.write() as db:
        original = add_report(db, status="accepted", title="Banc à réparer")
        duplicate = add_report(db, status="accepted", title="Banc cassé")
        add_volunteer(db, duplicate, "Sam", "sam@example.org", locale="en")
    coordinator = signed_in(mail_app, "coordinator")
    change(coordinator, original, "scheduled", scheduled_for=(date.today() + timedelta(days=10)).isoformat())
    change(coordinator, duplicate, "duplicate", duplicate_of=original)
    send(mail_app)
    [sam] = smtp_server.inbox.to("sam@example.org")
    assert sam.message["Subject"].startswith("Worksite Banc à réparer")


# --- the language people used is the language they are written in ---------------------------------------


def report_entry(email: str) -> dict:
    return {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": datetime.now(timezone.utc).isoformat(),
            "data": {"title": "Bench to repair", "description": "Broken slats.", "category": "street_furniture",
                     "address": "3 rue Chenoise", "where_detail": "", "photos": [], "wants_to_help": False,
                     "reporter": {"name": "Jo", "email": email, "consent": True, "consent_text_version": "2026-01"}}}


@pytest.mark.parametrize("client_options", [
    {"headers": {"Accept-Language": "en-US,en;q=0.8,fr;q=0.5"}},
    {"cookies": {"outreach_lang": "en"}},
], ids=["accept-language", "language-cookie"])
def test_a_resident_who_reports_in_english_hears_of_its_changes_in_english(mail_app, smtp_server, client_options):  # noqa: F811
    resident = TestClient(mail_app, **client_options)
    entry = report_entry("jo@example.org")
    assert resident.post("/api/v1/reports", json={"entries": [entry]}).json()["results"][0]["status"] == "created"
    change(signed_in(mail_app, "coordinator"), entry["id"], "under_review")  # a French-speaking coordinator
    send(mail_app)
    [got] = smtp_server.inbox.to("jo@example.org")
    assert got.message["Subject"] == "Your report: Bench to repair"
    assert "is now: Under review." in got.text() and "Follow your report" in got.html()


def test_a_resident_who_reports_in_french_hears_in_french(mail_app, smtp_server):  # noqa: F811
    entry = report_entry("lea@example.org")
    TestClient(mail_app, headers={"Accept-Language": "fr-FR"}).post("/api/v1/reports", json={"entries": [entry]})
    change(signed_in(mail_app, "coordinator"), entry["id"], "under_review")
    send(mail_app)
    assert smtp_server.inbox.to("lea@example.org")[0].message["Subject"] == "Votre signalement : Bench to repair"


def follow_up_encounter(email: str, language: str | None) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {"id": str(uuid.uuid4()), "kind": "encounter", "version": 1, "created_at": now, "data": {
        "occurred_at": now, "place_type": "market", "zone": None, "people_count": 1, "outcome": "conversation",
        "tools": ["participatory_budget"], "interest": "wants_to_take_part", "note": "",
        "audience": {"age_band": None, "language": language},
        "follow_up": {"consent": True, "consent_text_version": "2026-01", "channel": "email", "contact": email,
                      "purposes": ["participatory_budget"]}}}


def test_follow_up_contacts_are_written_to_in_the_conversation_language_else_the_phone_language(mail_app, smtp_server):  # noqa: F811
    french_phone = signed_in(mail_app, "field", "camille@example.org")
    english_phone = signed_in(mail_app, "field", "alex@example.org")
    english_phone.headers["Accept-Language"] = "en"
    for phone, email, language in ((french_phone, "ann@example.org", "en"),  # spoken in English on a French phone
                                   (french_phone, "basile@example.org", None),  # no language noted: the phone's
                                   (english_phone, "cem@example.org", "tr"),  # a language we do not write in: the phone's
                                   (english_phone, "dora@example.org", "fr")):
        r = phone.post("/api/v1/sync", json={"device_id": "phone-0001", "entries": [follow_up_encounter(email, language)]})
        assert r.json()["results"][0]["status"] == "created", r.text
    coordinator = signed_in(mail_app, "coordinator")
    r = coordinator.post("/coordinator/followups/messages", follow_redirects=False, data={
        "csrf_token": csrf(coordinator), "purpose": "participatory_budget", "subject": "Budget participatif",
        "body": "Les votes ouvrent le 3 mars.", "action": "send"})
    assert r.status_code == 303
    send(mail_app)
    footers = {a: smtp_server.inbox.to(a)[0].text() for a in
               ("ann@example.org", "basile@example.org", "cem@example.org", "dora@example.org")}
    english = "You receive this because you asked the participation team"
    assert [english in footers[a] for a in sorted(footers)] == [True, False, True, False]


# --- follow-up campaigns --------------------------------------------------------------------------------


def test_campaign_preview_send_status_and_unsubscribe_withdraws_that_consent(mail_app, smtp_server):  # noqa: F811
    store = mail_app.state.store
    with store.write() as db:
        alice = add_contact(db, contact="alice@example.org", name="Alice", purposes=("participatory_budget", "petition"))
        add_contact(db, contact="bob@example.org", name="Bob", purposes=("participatory_budget",))
        add_contact(db, contact="06 12 34 56 78", channel="phone", name="Chloé", purposes=("participatory_budget",))
        add_contact(db, contact="dan@example.org", name="Dan", purposes=("petition",))
    coordinator = signed_in(mail_app, "coordinator")
    form = {"csrf_token": csrf(coordinator), "purpose": "participatory_budget", "subject": "Le budget participatif 2027",
            "body": "Bonjour {name}, les votes ouvrent le 3 mars.\n\nÀ bientôt !"}
    r = coordinator.post("/coordinator/followups/messages", data={**form, "action": "preview"})
    assert r.status_code == 200 and "Alice, les votes ouvrent le 3 mars." in r.text
    assert "2 contacts le recevront par e-mail." in r.text and "1 a choisi le téléphone ou le SMS" in r.text
    assert "Envoyer à 2 personnes" in r.text
    assert send(mail_app)["sent"] == 0  # a preview queues nothing
    r = coordinator.post("/coordinator/followups/messages", data={**form, "action": "send"}, follow_redirects=False)
    assert r.status_code == 303
    send(mail_app)
    assert {a for m in smtp_server.inbox.messages for a in m.rcpt_tos} == {"alice@example.org", "bob@example.org"}
    page = coordinator.get(r.headers["location"])
    assert "alice@example.org" in page.text and "bob@example.org" in page.text
    [to_alice] = smtp_server.inbox.to("alice@example.org")
    stop = link(to_alice.text(), "https://outreach.example.org/unsubscribe/").removeprefix("https://outreach.example.org")
    assert TestClient(mail_app).post(stop).status_code == 200
    purposes = store.db().execute("select purposes from contacts where id = ?", [alice]).fetchone()[0]
    assert purposes == '["petition"]'  # only that consent is withdrawn


def test_what_is_sent_is_what_was_previewed_and_nobody_is_offered_a_send_to_no_one(mail_app, smtp_server):  # noqa: F811
    with mail_app.state.store.write() as db:
        add_contact(db, contact="alice@example.org", name="Alice", purposes=("participatory_budget",))
    coordinator = signed_in(mail_app, "coordinator")
    form = {"csrf_token": csrf(coordinator), "purpose": "participatory_budget", "subject": "Les votes",
            "body": "Les votes ouvrent le 3 mars.\n\nÀ bientôt !", "action": "preview"}
    page = coordinator.post("/coordinator/followups/messages", data=form).text
    assert "Envoyer à 1 personne<" in page and "1 contact le recevra par e-mail." in page
    send_form = page[page.index('id="preview-title"'):]
    assert 'type="hidden" name="body" value="Les votes ouvrent le 3 mars.\n\nÀ bientôt !"' in send_form
    assert "Ne plus recevoir ces messages : https://" in send_form  # French punctuation in the message
    empty = coordinator.post("/coordinator/followups/messages", data={**form, "purpose": "agora"}).text
    assert "0 contact le recevra par e-mail." in empty and 'value="send"' not in empty


def test_the_unsubscribe_page_says_which_messages_it_stops_and_names_no_one(mail_app, smtp_server):  # noqa: F811
    with mail_app.state.store.write() as db:
        rid = add_report(db, reporter={"name": "Léa", "email": "lea@example.org"})
    change(signed_in(mail_app, "coordinator"), rid, "under_review")
    send(mail_app)
    stop = smtp_server.inbox.to("lea@example.org")[0].message["List-Unsubscribe"].strip("<>")
    page = TestClient(mail_app, cookies={"outreach_lang": "en"}).get(stop.removeprefix("https://outreach.example.org")).text
    assert "News of the worksite you reported." in page and "Press the button" in page
    assert "lea@example.org" not in page and "Léa" not in page and "Banc cassé" not in page


def test_campaign_refuses_bad_input_with_a_message(mail_app):
    coordinator = signed_in(mail_app, "coordinator")
    for form in ({"purpose": "nope", "subject": "Bonjour", "body": "Un message assez long."},
                 {"purpose": "petition", "subject": "", "body": "Un message assez long."},
                 {"purpose": "petition", "subject": "Bonjour", "body": "x" * 6001}):
        r = coordinator.post("/coordinator/followups/messages", data={"csrf_token": csrf(coordinator), **form})
        assert r.status_code == 400 and "aria-invalid" in r.text


def test_forged_unsubscribe_links_are_refused(mail_app):
    assert TestClient(mail_app).post("/unsubscribe/forged-token").status_code == 404


# --- delivery: once, even when the server is down or the sender crashed ---------------------------------


def queue_one(app, recipient="lea@example.org", event="test:1", name="Léa", subject="Bonjour"):
    with app.state.store.write() as db:
        return queue.enqueue(db, kind="test", event=event, recipient=recipient, name=name, locale="fr",
                             content=messages.Content(subject=subject, greeting="Bonjour,", paragraphs=["Un mot."]),
                             ref_type="user", ref_id="1")


def test_smtp_down_for_an_hour_then_delivered_once(mail_app, smtp_server):  # noqa: F811
    queue_one(mail_app)
    smtp_server.stop()
    start = datetime.now(timezone.utc)
    retries = 0
    for minute in range(0, 61, 5):  # an hour of the sender's rounds, in simulated time
        retries += send(mail_app, start + timedelta(minutes=minute))["retry"]
    assert retries >= 4 and smtp_server.inbox.messages == []
    row = mail_app.state.store.db().execute("select status, attempts from mail_queue").fetchone()
    assert row[0] == "queued"
    smtp_server.start()
    for minute in range(61, 200, 5):
        send(mail_app, start + timedelta(minutes=minute))
    assert len(smtp_server.inbox.to("lea@example.org")) == 1


def test_a_crash_between_queueing_and_sending_delivers_once(tmp_path, smtp_server):  # noqa: F811
    settings = mail_settings(tmp_path, smtp_server.port)
    first = create_app(settings)
    queue_one(first)
    first.state.store.close()  # the process dies before its sender ran
    second = create_app(settings)
    def recorded_sent():
        return second.state.store.db().execute("select status from mail_queue").fetchone()[0] == "sent"

    with TestClient(second):  # the lifespan starts the sender
        # Wait for the sender to record the message as sent, not only for it to arrive: stopping
        # between the two is a crash of its own (the message would go again, same Message-ID).
        deadline = time.monotonic() + 20
        while not recorded_sent() and time.monotonic() < deadline:
            time.sleep(0.05)
    second.state.store.close()
    assert send(create_app(settings), datetime.now(timezone.utc) + timedelta(days=1))["sent"] == 0
    assert len(smtp_server.inbox.to("lea@example.org")) == 1


def test_a_sender_killed_mid_send_resends_with_the_same_message_id(mail_app, smtp_server):  # noqa: F811
    queue_one(mail_app)
    with mail_app.state.store.write() as db:
        queue.claim(db, datetime.now(timezone.utc))  # taken by a sender that then died
    assert send(mail_app)["sent"] == 0  # another sender leaves it alone during the lease
    assert send(mail_app, datetime.now(timezone.utc) + timedelta(seconds=queue.LEASE + 1))["sent"] == 1
    [got] = smtp_server.inbox.messages
    assert got.message["Message-ID"] == queue.message_id("test", "test:1", "lea@example.org")


def test_the_same_event_queued_twice_is_one_message(mail_app, smtp_server):  # noqa: F811
    assert queue_one(mail_app) is True
    assert queue_one(mail_app) is False
    send(mail_app)
    assert len(smtp_server.inbox.messages) == 1


def test_a_permanent_refusal_is_shown_to_admins_at_once(mail_app, monkeypatch):
    class Refusing:
        def __init__(self, settings):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def send(self, message):
            raise smtplib.SMTPRecipientsRefused({"lea@example.org": (550, b"no such mailbox")})

    queue_one(mail_app)
    assert sender.send_due(mail_app.state.store, mail_app.state.settings, transport=Refusing)["failed"] == 1
    admin = signed_in(mail_app, "admin")
    page = admin.get("/admin/mail")
    assert "lea@example.org" in page.text and "no such mailbox" in page.text
    mail_id = mail_app.state.store.db().execute("select id from mail_queue").fetchone()[0]
    r = admin.post(f"/admin/mail/{mail_id}/retry", data={"csrf_token": csrf(admin, "/admin/mail")}, follow_redirects=False)
    assert r.status_code == 303
    assert mail_app.state.store.db().execute("select status from mail_queue").fetchone()[0] == "queued"


def test_retries_stop_after_the_last_attempt(tmp_path):
    app = create_app(mail_settings(tmp_path, 1, mail_max_attempts=3))  # port 1: nothing listens
    queue_one(app)
    moment = datetime.now(timezone.utc)
    for _ in range(6):
        moment += timedelta(hours=2)
        send(app, moment)
    assert app.state.store.db().execute("select status, attempts from mail_queue").fetchone() == ("failed", 3)
    app.state.store.close()


# --- header injection --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, subject", [
    ("Léa\r\nBcc: victim@example.org", "Bonjour"),
    ("Léa", "Bonjour\r\nBcc: victim@example.org"),
    ("Léa\nContent-Type: text/html", "Sujet\n\nCorps injecté"),
    ("=?utf-8?q?Bcc=3A_x?=", "Bonjour\u2028Bcc: victim@example.org"),
])
def test_names_and_subjects_cannot_inject_headers(mail_app, smtp_server, name, subject):  # noqa: F811
    queue_one(mail_app, name=name, subject=subject)
    send(mail_app)
    [got] = smtp_server.inbox.messages
    assert got.rcpt_tos == ["lea@example.org"]
    assert got.message["Bcc"] is None and "victim" not in " ".join(got.rcpt_tos)
    assert "\n" not in str(got.message["Subject"]) and "\n" not in str(got.message["To"])


@pytest.mark.parametrize("address", ["lea@example.org\r\nBcc: victim@example.org", "Léa <lea@example.org>",
                                     "lea@example.org, victim@example.org", "", "no-at-sign", "a@b"])
def test_addresses_that_are_not_plain_addresses_are_never_queued(mail_app, address):
    assert queue_one(mail_app, recipient=address) is False
