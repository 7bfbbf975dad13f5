import json
from datetime import datetime, timezone

import pytest

from outreach import privacy
from outreach.coordinator import exports
from outreach.coordinator.lists import Filters
from tests.coord_factories import add_contact, add_encounter, add_report

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def dump_everything(db) -> str:
    """Every row of every table, and every export, as one text to search for leftovers."""
    parts = []
    for table in db.table_names():
        for row in db[table].rows:
            parts.append(json.dumps(row, ensure_ascii=False, default=str))
    for kind in exports.KINDS:
        for fmt in exports.FORMATS:
            parts.append("".join(exports.chunks(db, kind, fmt, Filters())))
    return "\n".join(parts)


@pytest.mark.parametrize(
    "raw, kind, value",
    [("Alice@Example.org ", "email", "alice@example.org"), ("+33 6 12 34 56 78", "phone", "+33612345678"),
     ("06.12.34.56.78", "phone", "+33612345678")],
)
def test_identify(raw, kind, value):
    assert privacy.identify(raw) == (kind, value)


@pytest.mark.parametrize("raw", ["", "alice", "<script>", "' or 1=1 --", "x" * 400, "12"])
def test_identify_refuses_what_is_neither_email_nor_phone(raw):
    with pytest.raises(privacy.IdentifierError):
        privacy.identify(raw)


def seed_person(db):
    """Alice gave a follow-up contact, filed a report with her phone, and is named in a note."""
    e = add_encounter(db, note="Alice (alice@example.org) viendra à l'agora")
    add_contact(db, contact="alice@example.org", encounter_id=e, name="Alice Dupont")
    add_report(db, reporter={"name": "Alice Dupont", "email": "ALICE@example.org", "phone": "06 12 34 56 78"},
               description="Contact: 06 12 34 56 78")
    # Someone else, who must survive untouched.
    add_contact(db, contact="zoe@example.org", name="Zoé")


def test_access_request_finds_everything_and_erasure_leaves_no_trace(fresh_db):
    seed_person(fresh_db)
    found = privacy.find(fresh_db, "alice@example.org")
    assert len(found["contacts"]) == 1 and len(found["report_contacts"]) == 1
    assert {m["table"] for m in found["mentions"]} == {"encounters"}  # listed for review, not erased
    answer = json.loads(privacy.access_export(found))
    assert answer["follow_up_contacts"][0]["contact"] == "alice@example.org"
    assert answer["synced_entries"]

    by_phone = privacy.find(fresh_db, "+33612345678")
    assert len(by_phone["report_contacts"]) == 1
    assert any(m["table"] == "reports" for m in by_phone["mentions"])
    assert "Contact: 06" not in privacy.access_export(by_phone)

    with fresh_db.conn:
        privacy.erase(fresh_db, found, user_id=None, reference="REQ-1")
        privacy.erase(fresh_db, privacy.find(fresh_db, "06 12 34 56 78"), user_id=None, reference="REQ-1")
    for table in ("contacts", "report_contacts", "entry_versions"):
        rows = json.dumps(list(fresh_db[table].rows), ensure_ascii=False)
        for needle in ("alice@example.org", "ALICE@example.org", "06 12 34 56 78", "Alice Dupont"):
            assert needle not in rows
    # Free text is a person's to read: the note and the description are kept as they were.
    assert "Alice (alice@example.org)" in dump_everything(fresh_db)
    assert "zoe@example.org" in dump_everything(fresh_db)
    erasures = list(fresh_db.query("select * from audit_log where action = 'erasure'"))
    assert len(erasures) == 2
    assert json.loads(erasures[0]["detail"])["reference"] == "REQ-1"
    assert json.loads(erasures[0]["detail"])["contacts"] == 1
    assert privacy.find(fresh_db, "alice@example.org")["contacts"] == []


def test_purge_removes_expired_contacts_and_closed_reports_contacts(fresh_db):
    add_contact(fresh_db, contact="old@example.org", name="Ancien", consented_at="2025-11-01T10:00:00+00:00",
                expires_at="2026-11-01T10:00:00+00:00")
    add_contact(fresh_db, contact="fresh@example.org", name="Récent", consented_at="2026-11-01T10:00:00+00:00",
                expires_at="2027-11-01T10:00:00+00:00")
    add_report(fresh_db, status="done", closed_at="2026-07-01T10:00:00+00:00",
               reporter={"name": "Clos", "email": "closed@example.org"})
    add_report(fresh_db, status="done", closed_at="2026-11-20T10:00:00+00:00",
               reporter={"name": "Tout juste", "email": "recent@example.org"})
    with fresh_db.conn:
        counts = privacy.purge(fresh_db, 365, 90, now=NOW)
    assert counts == {"contacts": 1, "report_contacts": 1, "volunteers": 0, "entry_versions": 2}
    everything = dump_everything(fresh_db)
    for gone in ("old@example.org", "Ancien", "closed@example.org"):
        assert gone not in everything
    for kept in ("fresh@example.org", "recent@example.org"):
        assert kept in everything
    assert list(fresh_db.query("select count(*) as n from audit_log where action = 'purge'"))[0]["n"] == 1
    with fresh_db.conn:
        assert not any(privacy.purge(fresh_db, 365, 90, now=NOW).values())


def test_shorter_retention_setting_applies_to_contacts_already_stored(fresh_db):
    add_contact(fresh_db, contact="mid@example.org", consented_at="2026-05-01T10:00:00+00:00",
                expires_at="2027-05-01T10:00:00+00:00")
    with fresh_db.conn:
        assert privacy.purge(fresh_db, 180, 90, now=NOW)["contacts"] == 1


def test_cli_purge(tmp_path, monkeypatch, capsys):
    from outreach import migrations, refdata
    from outreach.cli import main
    from outreach.db import connect

    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path))
    db = connect(tmp_path / "outreach.db")
    migrations.apply(db)
    refdata.seed(db)
    add_contact(db, contact="gone@example.org", consented_at="2020-01-01T00:00:00+00:00", expires_at="2021-01-01T00:00:00+00:00")
    db.close()
    assert main(["purge"]) == 0
    assert "1 follow-up contacts" in capsys.readouterr().out
    db = connect(tmp_path / "outreach.db")
    assert db["contacts"].count == 0
    assert "gone@example.org" not in dump_everything(db)
    assert json.loads(next(db.query("select detail from audit_log where action = 'purge'"))["detail"])["via"] == "cli"
    db.close()


def test_daily_purge_runs_from_the_app_lifespan(tmp_path):
    import asyncio

    from outreach.db import Store
    from outreach import migrations, refdata
    from outreach.settings import Settings

    store = Store(tmp_path / "o.db")
    migrations.apply(store.db())
    refdata.seed(store.db())
    add_contact(store.db(), contact="old@example.org", consented_at="2020-01-01T00:00:00+00:00", expires_at="2021-01-01T00:00:00+00:00")

    async def run():
        task = asyncio.create_task(privacy.purge_daily(store, Settings(data_dir=tmp_path), interval=3600, first_delay=0))
        for _ in range(100):
            await asyncio.sleep(0.02)
            if store.db()["contacts"].count == 0:
                break
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    # Its own thread and loop: the session's Playwright may already run a loop in this thread.
    import threading

    t = threading.Thread(target=lambda: asyncio.run(run()))
    t.start()
    t.join()
    assert store.db()["contacts"].count == 0
    store.close()


def test_erasure_after_a_real_sync_leaves_no_trace(field_client, coordinator_client, store):
    """A follow-up given in the street goes through /api/v1/sync; the erasure then finds and clears it everywhere."""
    from tests.test_sync import encounter

    follow = {"consent": True, "consent_text_version": "2026-01", "channel": "sms", "contact": "06 98 76 54 32",
              "name": "Mme Durand", "purposes": ["petition"]}
    e = encounter(follow_up=follow)
    body = {"device_id": "phone-erasure", "app_version": "1.0", "entries": [e]}
    assert field_client.post("/api/v1/sync", json=body).json()["results"][0]["status"] == "created"
    db = store.db()
    assert "06 98 76 54 32" in dump_everything(db)
    coordinator_client.get("/login")
    token = coordinator_client.cookies.get("outreach_csrf")
    r = coordinator_client.post("/coordinator/privacy/erase", data={"csrf_token": token, "identifier": "+33 6 98 76 54 32",
                                                                     "confirm": "yes", "reference": "courrier 12"})
    assert r.status_code == 200
    everything = dump_everything(db)
    assert "98 76 54 32" not in everything and "0698765432" not in everything and "Mme Durand" not in everything
    # The encounter itself is kept (it holds no personal data), and a replay of the same entry stays harmless.
    assert db["encounters"].count == 1
    assert field_client.post("/api/v1/sync", json=body).json()["results"][0]["status"] == "unchanged"
    assert db["contacts"].count == 0


def test_access_and_erasure_match_the_exact_address_never_a_longer_one(fresh_db):
    """A short address that ends other people's (e238687@…) finds only its owner's data, never Alice's or Bob's."""
    mine = add_contact(fresh_db, contact="E238687@example.org ", name="Eve")
    add_contact(fresh_db, contact="alice238687e238687@example.org", name="Alice Martin")
    add_report(fresh_db, reporter={"name": "Bob Durand", "email": "bobe238687@example.org", "phone": "06 11 22 33 44"})
    add_encounter(fresh_db, note="Rappeler alice238687e238687@example.org")

    found = privacy.find(fresh_db, "e238687@example.org")
    assert [c["id"] for c in found["contacts"]] == [mine]
    assert found["report_contacts"] == [] and found["mentions"] == []
    exported = privacy.access_export(found)
    for other in ("alice238687", "Alice Martin", "bobe238687", "Bob Durand", "06 11 22 33 44"):
        assert other not in exported

    with fresh_db.conn:
        privacy.erase(fresh_db, found, user_id=None)
    everything = dump_everything(fresh_db)
    assert "alice238687e238687@example.org" in everything and "Alice Martin" in everything
    assert "bobe238687@example.org" in everything and "[effacé]" not in everything
    assert "Eve" not in everything


@pytest.mark.parametrize("raw", ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "0033 6 12 34 56 78"])
def test_phone_numbers_are_compared_in_e164(raw):
    assert privacy.identify(raw) == ("phone", "+33612345678")


def test_a_phone_number_does_not_find_a_longer_one_that_ends_with_it(fresh_db):
    add_contact(fresh_db, contact="06 12 34 56 78", channel="sms", name="Léa")
    add_contact(fresh_db, contact="+44 20 7946 0612 3456 78", channel="phone", name="Tom")
    found = privacy.find(fresh_db, "+33612345678")
    assert [c["name"] for c in found["contacts"]] == ["Léa"]


def test_free_text_mentions_are_listed_for_review_never_exported_nor_scrubbed(fresh_db):
    e = add_encounter(fresh_db, note="Alice (alice@example.org) viendra à l'agora")
    add_contact(fresh_db, contact="alice@example.org", name="Alice Dupont")
    found = privacy.find(fresh_db, "Alice@Example.org")
    assert [(m["table"], m["id"]) for m in found["mentions"]] == [("encounters", e)]
    assert "viendra" not in privacy.access_export(found)
    with fresh_db.conn:
        counts = privacy.erase(fresh_db, found, user_id=None)
    assert counts["mentions_to_review"] == 1
    assert fresh_db["encounters"].get(e)["note"] == "Alice (alice@example.org) viendra à l'agora"
