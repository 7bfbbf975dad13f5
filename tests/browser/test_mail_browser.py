"""The e-mail pages in a real Chromium: failed messages (admins), a campaign and its preview
(coordinators), the unsubscribe page (anyone with the link). Accessible at 1280 px, and at 320 px
nothing runs off the screen: long addresses, errors, subjects and links wrap."""

from __future__ import annotations

import pytest

from outreach import mail
from outreach.mail import campaigns, messages, queue, unsubscribe
from tests.conftest import make_settings, start_live_server, stop_live_server
from tests.coord_factories import add_contact
from tests.smtp_server import smtp_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

LONG_ADDRESS = "marie-christine.de-la-fontaine-lambert@quartier-tres-cloitres.example.org"
LONG_LINK = "https://participation.grenoble.example.org/budget-participatif/2027/projets-soumis-au-vote?quartier=tres-cloitres"
CAMPAIGN = {"purpose": "participatory_budget",
            "subject": "Le budget participatif 2027 : les votes ouvrent bientôt dans votre quartier",
            "body": f"Les votes ouvrent le 3 mars. Tous les projets sont sur {LONG_LINK}\n\nÀ bientôt !"}


@pytest.fixture
def mail_site(tmp_path, smtp_server):  # noqa: F811
    """A live server with e-mail on: one message that failed for good, three follow-up contacts
    (one by phone) and a campaign sent to the two by e-mail."""
    live = start_live_server(make_settings(tmp_path / "live", smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                                           smtp_security="none", mail_from="Participation <participation@example.org>"))
    outbox = mail.Outbox(base_url=live.url, signer=live.app.state.signer)
    with live.store.write() as db:
        queue.enqueue(db, kind="report_update", event="report:x:1", recipient=LONG_ADDRESS, name="Marie-Christine",
                      locale="fr", content=messages.Content(subject=CAMPAIGN["subject"], greeting="Bonjour,", paragraphs=["…"]),
                      ref_type="user", ref_id="1")
        db.execute("update mail_queue set status = 'failed', attempts = 8, last_error = ?",
                   [f"550 5.1.1 <{LONG_ADDRESS}>: Recipient address rejected: User unknown in virtual mailbox table"])
        contact = add_contact(db, contact="alice@example.org", name="Alice", purposes=("participatory_budget",))
        add_contact(db, contact=LONG_ADDRESS, name="Marie-Christine", purposes=("participatory_budget",))
        add_contact(db, contact="06 12 34 56 78", channel="phone", name="Chloé", purposes=("participatory_budget",))
        campaign_id = campaigns.send(db, outbox, None, campaigns.check(db, **CAMPAIGN))
    live.unsubscribe_path = unsubscribe.url(outbox, "contact", contact, "participatory_budget").removeprefix(live.url)
    live.campaign_path = f"/coordinator/followups/messages/{campaign_id}"
    yield live
    stop_live_server(live)


def preview_campaign(page, live):
    page.goto(live.url + "/coordinator/followups/messages")
    page.get_by_label("Aux contacts qui ont demandé des nouvelles de").select_option(CAMPAIGN["purpose"])
    page.get_by_label("Objet").fill(CAMPAIGN["subject"])
    page.get_by_label("Message", exact=True).fill(CAMPAIGN["body"])
    page.get_by_role("button", name="Aperçu").click()
    page.get_by_role("heading", name="Aperçu").wait_for()


def office_pages(live):
    return ["/admin/mail", "/coordinator/followups/messages", live.campaign_path]


def test_mail_pages_have_no_serious_axe_violations(browser, mail_site, login, assert_no_serious_axe_violations):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        login(page, mail_site, "admin")
        for path in office_pages(mail_site):
            assert page.goto(mail_site.url + path).status == 200, path
            assert_no_serious_axe_violations(page)
        preview_campaign(page, mail_site)
        assert_no_serious_axe_violations(page)
        anonymous = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR").new_page()
        assert anonymous.goto(mail_site.url + mail_site.unsubscribe_path).status == 200
        assert_no_serious_axe_violations(anonymous)
        anonymous.context.close()
    finally:
        context.close()


def assert_fits(page, width):
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url}: {overflow}px wide at {width}px"
    for box in page.locator(".mail-preview").all():
        right = box.evaluate("e => e.getBoundingClientRect().right")
        assert right <= width, f"{page.url}: a message preview ends at {right}px"


def test_mail_pages_fit_320px_with_long_addresses_and_links_wrapped(browser, mail_site, login):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR")
    page = context.new_page()
    try:
        login(page, mail_site, "admin")
        for path in office_pages(mail_site):
            page.goto(mail_site.url + path)
            assert_fits(page, 320)
        # The campaign's text as written and the preview as the reader sees it, the link wrapped.
        page.goto(mail_site.url + mail_site.campaign_path)
        assert page.locator(".mail-preview").get_by_text(LONG_LINK[:40]).is_visible()
        preview_campaign(page, mail_site)
        assert_fits(page, 320)
        assert "Bonjour Alice," in page.locator(".mail-preview").inner_text()
        assert page.get_by_role("button", name="Envoyer à 2 personnes").is_visible()
    finally:
        context.close()
    anonymous = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR").new_page()
    try:
        anonymous.goto(mail_site.url + mail_site.unsubscribe_path)
        assert anonymous.get_by_text("Budget participatif").is_visible()
        assert_fits(anonymous, 320)
    finally:
        anonymous.context.close()
