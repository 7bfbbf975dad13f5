"""Reports as a domain: validation, idempotent storage, me-too, tracking, triage, merge."""

import uuid
from datetime import datetime, timezone

import pytest

from outreach import privacy
from outreach.field import sync
from outreach.settings import Settings
from outreach.worksites import intake, public, triage
from outreach.worksites.intake import ReportError

NOW = datetime.now(timezone.utc).isoformat(timespec="seconds")


def report_data(**over):
    data = {"title": "Banc cassé", "description": "Le dossier est arraché.", "category": "street_furniture",
            "location": {"lat": 45.1890, "lon": 5.7100, "accuracy_m": 12}, "address": "3 rue Nicolas Chorier",
            "where_detail": "devant l'école", "photos": [], "wants_to_help": True, "reporter": None}
    data.update(over)
    return data


def entry(data=None, **over):
    e = {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": NOW, "data": data or report_data()}
    e.update(over)
    return e


def store(db, e, *, max_open_per_contact=None):
    """File one report as a resident does: through the one intake path (sync), with no user."""
    settings = Settings(max_open_reports_per_contact=max_open_per_contact) if max_open_per_contact else None
    with db.atomic():
        return sync.process(db, None, [e], settings=settings)["results"][0]


def field_ctx(db, user_id):
    """What sync.py hands its kinds for a worker's phone."""
    return sync.Context(db, {"id": user_id}, device_id="phone-0001")


def field_sync(db, ctx, e, *, update=False):
    """Do what sync.py does for one report entry: check, keep the version, store."""
    checked = intake.validate_report(ctx, e["data"])
    if checked.errors:
        return checked.errors
    with db.atomic():
        db["entry_versions"].insert({"entry_id": e["id"], "kind": "report", "version": e["version"], "hash": "h",
                                     "data": "{}", "user_id": ctx.user["id"], "received_at": NOW})
        stored = {"id": e["id"], "kind": "report", "version": e["version"], "hash": "h" * 64,
                  "created_at": e["created_at"]}
        intake.store_report(db, ctx, stored, checked.clean, update=update)
    return {}


def make_user(db, role="coordinator"):
    return db["users"].insert({"email": f"{uuid.uuid4()}@x.org", "display_name": "Camille", "role": role,
                               "password_hash": "x"}).last_pk


def test_valid_report_is_stored_once(fresh_db):
    e = entry()
    first = store(fresh_db, e)
    assert first["status"] == "created" and first["hash"]
    assert store(fresh_db, e)["status"] == "unchanged"
    assert fresh_db["reports"].count == 1
    assert fresh_db["entry_versions"].count == 1
    row = fresh_db["reports"].get(e["id"])
    assert row["status"] == "submitted" and row["source"] == "resident" and row["zone"] == "secteur-1"
    events = list(fresh_db["report_events"].rows)
    assert [(ev["kind"], ev["to_status"]) for ev in events] == [("status", "submitted")]


def test_same_id_other_content_is_a_conflict(fresh_db):
    e = entry()
    store(fresh_db, e)
    other = dict(e, data=report_data(title="Autre chose"))
    result = store(fresh_db, other)
    assert result["status"] == "conflict" and result["current_version"] == 1
    assert fresh_db["reports"].get(e["id"])["title"] == "Banc cassé"


def test_field_worker_files_with_a_resident_and_may_update_until_reviewed(fresh_db):
    uid = make_user(fresh_db, "field")
    ctx = field_ctx(fresh_db, uid)
    encounter = str(uuid.uuid4())
    e = entry(report_data(encounter_id=encounter))
    assert field_sync(fresh_db, ctx, e) == {}
    row = fresh_db["reports"].get(e["id"])
    assert (row["source"], row["user_id"], row["encounter_id"], row["device_id"]) == ("field", uid, encounter, "phone-0001")
    assert intake.may_update_report(fresh_db, ctx, e["id"], uid)
    v2 = dict(e, version=2, data=report_data(title="Banc cassé et tagué"))
    assert field_sync(fresh_db, ctx, v2, update=True) == {}
    assert fresh_db["reports"].get(e["id"])["title"] == "Banc cassé et tagué"
    assert fresh_db["reports"].count == 1
    other = field_ctx(fresh_db, make_user(fresh_db, "field"))
    assert not intake.may_update_report(fresh_db, other, e["id"], uid)
    with fresh_db.atomic():
        triage.change_status(fresh_db, e["id"], "under_review", uid)
    assert not intake.may_update_report(fresh_db, ctx, e["id"], uid)


def test_anonymous_higher_version_is_a_conflict(fresh_db):
    e = entry()
    store(fresh_db, e)
    v2 = dict(e, version=2, data=report_data(title="x" * 10))
    assert store(fresh_db, v2)["status"] == "conflict"
    assert fresh_db["reports"].get(e["id"])["title"] == "Banc cassé"


def test_encounter_link_only_from_the_field(fresh_db):
    data = report_data(encounter_id=str(uuid.uuid4()))
    resident = intake.validate_report(sync.Context(fresh_db, None), data)
    assert "data.encounter_id" in resident.errors
    worker = intake.validate_report(field_ctx(fresh_db, make_user(fresh_db, "field")), data)
    assert worker.errors == {} and worker.clean["encounter_id"] == data["encounter_id"]


BAD = [
    ({"title": "ab"}, "data.title"),
    ({"title": "x" * 121}, "data.title"),
    ({"title": 42}, "data.title"),
    ({"title": None}, "data.title"),
    ({"title": "bad\x00byte"}, "data.title"),
    ({"description": "x" * 4001}, "data.description"),
    ({"description": ["list"]}, "data.description"),
    ({"category": "nuclear_plant"}, "data.category"),
    ({"category": "' or 1=1 --"}, "data.category"),
    ({"category": None}, "data.category"),
    ({"location": None, "address": ""}, "data.location"),
    ({"location": {"lat": 91, "lon": 5}}, "data.location.lat"),
    ({"location": {"lat": "45", "lon": 5}}, "data.location.lat"),
    ({"location": {"lat": True, "lon": 5}}, "data.location.lat"),
    ({"location": {"lat": 1e308 * 10, "lon": 5}}, "data.location.lat"),
    ({"location": {"lat": 45, "lon": 5, "accuracy_m": -1}}, "data.location.accuracy_m"),
    ({"location": {"lat": 45, "lon": 5, "extra": 1}}, "data.location"),
    ({"location": [45, 5]}, "data.location"),
    ({"address": "x" * 301}, "data.address"),
    ({"where_detail": "x" * 301}, "data.where_detail"),
    ({"photos": ["../../etc/passwd"]}, "data.photos"),
    ({"photos": ["a" * 64] * 2}, "data.photos"),
    ({"photos": ["a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64, "f" * 64]}, "data.photos"),
    ({"photos": "a" * 64}, "data.photos"),
    ({"wants_to_help": "yes"}, "data.wants_to_help"),
    ({"wants_to_help": 1}, "data.wants_to_help"),
    ({"reporter": {"email": "a@b.org", "consent": False, "consent_text_version": "2026-01"}}, "data.reporter.consent"),
    ({"reporter": {"email": "a@b.org", "consent": "true", "consent_text_version": "2026-01"}}, "data.reporter.consent"),
    ({"reporter": {"email": "not-an-email", "consent": True, "consent_text_version": "2026-01"}}, "data.reporter.email"),
    ({"reporter": {"phone": "<script>", "consent": True, "consent_text_version": "2026-01"}}, "data.reporter.phone"),
    ({"reporter": {"name": "Ana", "consent": True, "consent_text_version": "2026-01"}}, "data.reporter.email"),
    ({"reporter": {"email": "a@b.org", "consent": True, "consent_text_version": "1999"}}, "data.reporter.consent_text_version"),
    ({"reporter": {"email": "a@b.org", "consent": True, "consent_text_version": "2026-01", "ssn": 1}}, "data.reporter.ssn"),
    ({"reporter": "a@b.org"}, "data.reporter"),
    ({"zone": "atlantis"}, "data.zone"),
    ({"admin": True}, "data.admin"),
]


@pytest.mark.parametrize("change,field", BAD)
def test_bad_report_data_is_rejected_by_field_and_nothing_is_written(fresh_db, change, field):
    result = store(fresh_db, entry(report_data(**change)))
    assert result["status"] == "rejected"
    assert field in result["errors"], result["errors"]
    assert fresh_db["reports"].count == 0 and fresh_db["entry_versions"].count == 0


@pytest.mark.parametrize("change,field", [
    ({"id": "not-a-uuid"}, "id"), ({"kind": "encounter"}, "kind"), ({"version": 0}, "version"),
    ({"version": True}, "version"), ({"created_at": "yesterday"}, "created_at"),
    ({"created_at": "2026-11-30T10:00:00"}, "created_at"), ({"created_at": "2099-01-01T00:00:00+00:00"}, "created_at"),
    ({"data": "text"}, "data"),
])
def test_bad_envelope_is_rejected(fresh_db, change, field):
    result = store(fresh_db, entry(**change))
    assert result["status"] == "rejected" and field in result["errors"]


def test_html_in_title_is_kept_as_text(fresh_db):
    e = entry(report_data(title="<script>alert(1)</script>"))
    assert store(fresh_db, e)["status"] == "created"
    assert fresh_db["reports"].get(e["id"])["title"] == "<script>alert(1)</script>"


def test_address_alone_is_enough(fresh_db):
    e = entry(report_data(location=None))
    assert store(fresh_db, e)["status"] == "created"
    assert fresh_db["reports"].get(e["id"])["lat"] is None


def test_reporter_contact_is_kept_apart_and_capped(fresh_db):
    reporter = {"name": "Ana", "email": "Ana@Example.org", "consent": True, "consent_text_version": "2026-01"}
    ids = []
    for i in range(3):
        e = entry(report_data(reporter=reporter, title=f"Banc {i}"))
        assert store(fresh_db, e, max_open_per_contact=3)["status"] == "created"
        ids.append(e["id"])
    contact = fresh_db["report_contacts"].get(ids[0])
    assert contact["email"] == "ana@example.org" and contact["consent_text_version"] == "2026-01"
    assert "ana" not in str(fresh_db["reports"].get(ids[0])).lower()
    fourth = store(fresh_db, entry(report_data(reporter=reporter, title="Banc 4")), max_open_per_contact=3)
    assert fourth["status"] == "rejected" and "data.reporter" in fourth["errors"]
    # Once one is closed, a new one is welcome again.
    with fresh_db.atomic():
        triage.change_status(fresh_db, ids[0], "declined", None, reason="Hors périmètre")
    assert store(fresh_db, entry(report_data(reporter=reporter, title="Banc 5")), max_open_per_contact=3)["status"] == "created"


def test_nearby_open_reports_of_the_same_category(fresh_db):
    near = entry(report_data(location={"lat": 45.18900, "lon": 5.71000, "accuracy_m": 5}))
    far = entry(report_data(location={"lat": 45.19200, "lon": 5.71000, "accuracy_m": 5}))  # ~330 m north
    other_cat = entry(report_data(category="painting"))
    closed = entry(report_data())
    for e in (near, far, other_cat, closed):
        store(fresh_db, e)
    with fresh_db.atomic():
        triage.change_status(fresh_db, closed["id"], "declined", None, reason="non")
    found = public.nearby_open(fresh_db, "street_furniture", 45.18910, 5.71010)
    assert [r["id"] for r in found] == [near["id"]]
    assert found[0]["distance_m"] < 20
    assert set(found[0]) == {"id", "title", "address", "where_detail", "status", "me_too_count", "distance_m"}


def test_me_too_counts_once_per_id(fresh_db):
    e = entry()
    store(fresh_db, e)
    tap = str(uuid.uuid4())
    with fresh_db.atomic():
        assert public.me_too(fresh_db, e["id"], tap) is True
        assert public.me_too(fresh_db, e["id"], tap) is False
        assert public.me_too(fresh_db, e["id"], str(uuid.uuid4())) is True
    assert fresh_db["reports"].get(e["id"])["me_too_count"] == 2
    with pytest.raises(ReportError):
        public.me_too(fresh_db, str(uuid.uuid4()), str(uuid.uuid4()))


class FakeSigner:
    def dumps(self, purpose, value):
        return f"{purpose}:{value}"

    def loads(self, purpose, token, max_age=None):
        p, _, v = token.partition(":")
        return v if p == purpose else None


def test_tracking_token_is_bound_to_its_purpose():
    signer = FakeSigner()
    rid = str(uuid.uuid4())
    token = public.tracking_token(signer, rid)
    assert public.report_id_for_token(signer, token) == rid
    assert public.report_id_for_token(signer, "session:" + rid) is None


def test_public_view_hides_notes_and_contacts(fresh_db):
    uid = make_user(fresh_db)
    reporter = {"name": "Ana Secret", "email": "ana@example.org", "phone": "0612345678", "consent": True,
                "consent_text_version": "2026-01"}
    e = entry(report_data(reporter=reporter))
    store(fresh_db, e)
    with fresh_db.atomic():
        triage.add_reply(fresh_db, e["id"], uid, "NOTE INTERNE confidentielle", public=False)
        triage.add_reply(fresh_db, e["id"], uid, "Merci, nous regardons.", public=True)
    view = public.public_view(fresh_db, e["id"])
    text = str(view)
    assert "NOTE INTERNE" not in text and "ana@example.org" not in text and "Ana Secret" not in text
    assert "0612345678" not in text
    assert view["public_reply"] == "Merci, nous regardons."


def test_needs_info_then_resident_answers(fresh_db):
    uid = make_user(fresh_db)
    e = entry()
    store(fresh_db, e)
    with fresh_db.atomic():
        triage.change_status(fresh_db, e["id"], "under_review", uid)
        triage.change_status(fresh_db, e["id"], "needs_info", uid, message="Quelle rue ?")
    with pytest.raises(ReportError):
        public.add_resident_info(fresh_db, e["id"], "   ")
    with fresh_db.atomic():
        public.add_resident_info(fresh_db, e["id"], "Rue Chorier, au numéro 3")
    assert fresh_db["reports"].get(e["id"])["status"] == "under_review"
    with pytest.raises(ReportError) as caught:
        public.add_resident_info(fresh_db, e["id"], "encore")
    assert caught.value.status == 409
    kinds = [ev["kind"] for ev in public.public_view(fresh_db, e["id"])["history"]]
    assert "resident_info" in kinds


def test_change_status_records_event_and_audit(fresh_db):
    uid = make_user(fresh_db)
    e = entry()
    store(fresh_db, e)
    with fresh_db.atomic():
        triage.change_status(fresh_db, e["id"], "under_review", uid)
        triage.change_status(fresh_db, e["id"], "accepted", uid)
        triage.change_status(fresh_db, e["id"], "scheduled", uid, scheduled_for="2099-05-01")
    row = fresh_db["reports"].get(e["id"])
    assert row["status"] == "scheduled" and row["scheduled_for"] == "2099-05-01"
    audit = list(fresh_db["audit_log"].rows)
    assert [a["action"] for a in audit] == ["report.status"] * 3 and all(a["user_id"] == uid for a in audit)
    with pytest.raises(ReportError) as caught:
        triage.change_status(fresh_db, e["id"], "done", uid)
    assert "status" in caught.value.errors
    with pytest.raises(ReportError) as caught:
        triage.change_status(fresh_db, e["id"], "in_progress", uid, expected="accepted")
    assert caught.value.status == 409


def test_merge_carries_content_to_the_original(fresh_db):
    uid = make_user(fresh_db)
    original, dup, dup2 = entry(), entry(report_data(photos=["a" * 64])), entry()
    for e in (original, dup, dup2):
        store(fresh_db, e)
    with fresh_db.atomic():
        triage.merge(fresh_db, dup["id"], original["id"], uid)
        # A duplicate of a duplicate points to the report that stands.
        triage.change_status(fresh_db, dup2["id"], "duplicate", uid, duplicate_of=dup["id"])
    assert fresh_db["reports"].get(dup2["id"])["duplicate_of"] == original["id"]
    orig = fresh_db["reports"].get(original["id"])
    assert orig["me_too_count"] == 2
    assert [p["sha256"] for p in public.photo_states(fresh_db, original["id"])] == ["a" * 64]
    assert public.photo_states(fresh_db, original["id"])[0]["arrived"] == 0
    with pytest.raises(ReportError):
        triage.change_status(fresh_db, original["id"], "duplicate", uid, duplicate_of=original["id"])
    with pytest.raises(ReportError):
        triage.change_status(fresh_db, original["id"], "duplicate", uid, duplicate_of=str(uuid.uuid4()))


def test_bulk_change_reports_each_result(fresh_db):
    uid = make_user(fresh_db)
    a, b = entry(), entry()
    store(fresh_db, a)
    store(fresh_db, b)
    with fresh_db.atomic():
        triage.change_status(fresh_db, b["id"], "declined", uid, reason="non")
        results = triage.bulk_change(fresh_db, [a["id"], b["id"], "nope"], "under_review", uid)
    assert results[a["id"]] == "" and results[b["id"]] and results["nope"]
    assert fresh_db["reports"].get(a["id"])["status"] == "under_review"


def test_triage_filters_and_keyset_pagination(fresh_db):
    ids = []
    for i in range(7):
        received = datetime.fromisoformat(f"2026-11-{10 + i:02d}T10:00:00+00:00")
        e = entry(report_data(title=f"Rapport {i}", wants_to_help=i % 2 == 0, photos=["b" * 64] if i == 3 else []),
                  created_at=received.isoformat())
        with fresh_db.atomic():
            assert sync.process(fresh_db, None, [e], now=received)["results"][0]["status"] == "created"
        ids.append(e["id"])
    f, errors = triage.triage_filters(fresh_db, {"status": "open"})
    assert errors == {}
    page1 = triage.triage_list(fresh_db, f, limit=3)
    page2 = triage.triage_list(fresh_db, f, after=page1["next"], limit=3)
    page3 = triage.triage_list(fresh_db, f, after=page2["next"], limit=3)
    seen = [r["id"] for p in (page1, page2, page3) for r in p["rows"]]
    assert seen == list(reversed(ids)) and page3["next"] is None
    f, _ = triage.triage_filters(fresh_db, {"with_photo": "1"})
    rows = triage.triage_list(fresh_db, f)["rows"]
    assert [r["id"] for r in rows] == [ids[3]] and rows[0]["photos_pending"] == 1
    f, _ = triage.triage_filters(fresh_db, {"wants_to_help": "1", "date_from": "2026-11-12", "date_to": "2026-11-14"})
    assert {r["id"] for r in triage.triage_list(fresh_db, f)["rows"]} == {ids[2], ids[4]}
    f, errors = triage.triage_filters(fresh_db, {"status": "bogus", "category": "x'--", "date_from": "never"})
    assert set(errors) == {"status", "category", "date_from"}
    f, _ = triage.triage_filters(fresh_db, {"q": "100%_"})
    assert triage.triage_list(fresh_db, f)["rows"] == []


def test_public_worksites_and_sign_up(fresh_db):
    uid = make_user(fresh_db)
    e = entry()
    store(fresh_db, e)
    form = {"name": "Léa", "email": "lea@example.org", "consent": True, "consent_text_version": "2026-01"}
    with pytest.raises(ReportError):
        public.sign_up(fresh_db, e["id"], form)  # not public yet
    with fresh_db.atomic():
        triage.change_status(fresh_db, e["id"], "under_review", uid)
        triage.change_status(fresh_db, e["id"], "accepted", uid)
    assert [w["id"] for w in public.public_worksites(fresh_db)] == [e["id"]]
    with fresh_db.atomic():
        assert public.sign_up(fresh_db, e["id"], form) is True
        assert public.sign_up(fresh_db, e["id"], form) is False
    with pytest.raises(ReportError) as caught:
        public.sign_up(fresh_db, e["id"], dict(form, consent=False))
    assert "consent" in caught.value.errors
    assert public.public_worksites(fresh_db)[0]["volunteers"] == 1


def test_contacts_of_long_closed_reports_are_purged(fresh_db):
    from datetime import timedelta

    reporter = {"email": "old@example.org", "consent": True, "consent_text_version": "2026-01"}
    old, recent, still_open = entry(report_data(reporter=reporter)), entry(report_data(reporter=reporter)), entry(
        report_data(reporter=reporter))
    for e in (old, recent, still_open):
        store(fresh_db, e)
    with fresh_db.atomic():
        for e in (old, recent):
            triage.change_status(fresh_db, e["id"], "declined", None, reason="non")
        fresh_db.execute("update reports set closed_at = '2020-01-01T00:00:00+00:00' where id = ?", [old["id"]])
    with fresh_db.atomic():
        counts = privacy.purge(fresh_db, 365, 90)
    assert (counts["report_contacts"], counts["volunteers"]) == (1, 0)
    assert {r["report_id"] for r in fresh_db["report_contacts"].rows} == {recent["id"], still_open["id"]}
    later = datetime.now(timezone.utc) + timedelta(days=91)
    with fresh_db.atomic():
        assert privacy.purge(fresh_db, 365, 90, now=later)["report_contacts"] == 1
    assert [r["report_id"] for r in fresh_db["report_contacts"].rows] == [still_open["id"]]
