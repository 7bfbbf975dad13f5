"""The vocabulary: every code has one label per language, and pages, exports, the phone and
templates all take codes, labels and limits from ``outreach.vocab``."""

from __future__ import annotations

import csv
import glob
import io
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from outreach import i18n, openapi, vocab
from outreach.coordinator import exports
from outreach.coordinator.lists import Filters
from tests.coord_factories import add_encounter, add_outing, add_report

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "outreach"
# Wordings that were used for a code before the vocabulary had one home; none may come back.
RETIRED_FR = ("Transports en commun", "Précisions demandées", "Pied d'immeubles")


def french_catalog_files() -> dict:
    """msgid → [(file, translation)] over every French catalog file."""
    found: dict = {}
    for path in sorted(glob.glob(str(PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "*.po"))):
        with open(path, "rb") as f:
            for m in read_po(f, locale="fr"):
                if m.id and isinstance(m.id, str):
                    found.setdefault(m.id, []).append((Path(path).name, m.string))
    return found


# --- one label per code and language -------------------------------------------------------------


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("name", list(vocab.ALL))
def test_every_code_has_exactly_one_label_per_locale(name, locale):
    choices = vocab.ALL[name]
    labels = choices.plain(locale)
    assert list(labels) == list(choices.codes) and len(set(choices.codes)) == len(choices)
    for code, label in labels.items():
        assert label.strip() and label != code, f"{name}.{code} has no label in {locale}"
    twice = [label for label, n in Counter(labels.values()).items() if n > 1]
    assert not twice, f"two codes of {name} read the same in {locale}: {twice}"


def test_each_label_is_translated_once_in_one_catalog_file():
    catalogs = french_catalog_files()
    for name, choices in vocab.ALL.items():
        for code, msgid in choices.msgids.items():
            if name == "language" and code != "und":
                continue  # languages are named in themselves, the same in every interface language
            assert len(catalogs.get(msgid, [])) == 1, f"{name}.{code}: {msgid!r} in {catalogs.get(msgid)}"


def test_the_wording_chosen_where_two_copies_disagreed():
    fr = {name: choices.plain("fr") for name, choices in vocab.ALL.items()}
    assert fr["report_state"]["needs_info"] == "Informations demandées"
    assert fr["place_type"]["transport"] == "Arrêt de transport"
    assert fr["format"]["building_foot"] == "Pied d'immeuble"


def test_no_code_list_is_written_outside_the_vocabulary():
    """A list's first three codes, quoted one after the other, appear in vocab.py only."""
    assert not (PACKAGE / "labels.py").exists()
    others = [p for p in PACKAGE.rglob("*.py") if p.name != "vocab.py"]
    for name, choices in vocab.ALL.items():
        quoted = [rf"""["']{re.escape(code)}["']""" for code in choices.codes[:3]]
        pattern = re.compile(r"\s*[,:][^\n]*?".join(quoted))
        for path in others:
            assert not pattern.search(path.read_text(encoding="utf-8")), f"{name} is listed again in {path}"


# --- pages, exports and the phone use it ----------------------------------------------------------


@pytest.fixture
def reported(store):
    """An encounter at a transport stop (today) and a report waiting for information."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with store.write() as db:
        add_encounter(db, occurred_at=now, place_type="transport", zone="secteur-1")
        add_report(db, status="needs_info", received_at=now)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_pages_show_the_same_label_for_a_code(reported, field_client, coordinator_client, locale):
    headers = {"Accept-Language": locale}
    transport = vocab.PLACE_TYPES.label("transport", locale)
    needs_info = vocab.REPORT_STATES.label("needs_info", locale)
    pages = {
        "phone": field_client.get("/app", headers=headers).text,
        "dashboard": coordinator_client.get("/coordinator", headers=headers).text,
        "encounter list": coordinator_client.get("/coordinator/encounters", headers=headers).text,
        "triage": coordinator_client.get("/coordinator/reports", headers=headers).text,
    }
    for page in ("phone", "dashboard", "encounter list"):
        assert transport in pages[page], page
    for page in ("dashboard", "triage"):
        assert needs_info in pages[page], page
    for page, html in pages.items():
        for retired in RETIRED_FR:
            assert retired not in html.replace("&#39;", "'"), (page, retired)


def test_exports_carry_the_vocabulary_labels_beside_the_codes(fresh_db):
    add_encounter(fresh_db, place_type="transport", outcome="declined", interest="none")
    add_outing(fresh_db, fmt="building_foot", status="ended")
    add_report(fresh_db, status="needs_info")
    for kind, expected in {
        "encounters": {"place_type": "Arrêt de transport", "outcome": "Refus de parler",
                       "interest": "Pas d'intérêt particulier"},
        "outings": {"format": "Pied d'immeuble", "status": "Terminée"},
        "reports": {"status": "Informations demandées", "source": "Habitant·e"},
    }.items():
        text = "".join(exports.chunks(fresh_db, kind, "csv", Filters(), locale="fr"))
        row = next(csv.DictReader(io.StringIO(text[1:], newline="")))
        assert {c: row[c + "_label"] for c in expected} == expected, kind
        english = "".join(exports.chunks(fresh_db, kind, "geojson", Filters(), locale="en"))
        for column in expected:
            assert exports.LABELLED[kind][column].label(row[column], "en") in english


@pytest.mark.parametrize("locale,expected", [
    ("en", {"resident": "Resident", "field": "Outreach team", "open311": "Partner app (Open311)"}),
    ("fr", {"resident": "Habitant·e", "field": "Équipe de terrain", "open311": "Application partenaire (Open311)"}),
])
def test_report_sources_are_labelled_in_the_export_s_language(fresh_db, locale, expected):
    for source in expected:
        rid = add_report(fresh_db, title=f"Banc {source}")
        fresh_db["reports"].update(rid, {"source": source})
    text = "".join(exports.chunks(fresh_db, "reports", "csv", Filters(), locale=locale))
    rows = list(csv.DictReader(io.StringIO(text[1:], newline="")))
    assert {r["source"]: r["source_label"] for r in rows} == expected
    french = "".join(exports.chunks(fresh_db, "reports", "csv-fr", Filters(), locale=locale))
    origins = {r["Code origine"]: r["Origine"] for r in csv.DictReader(io.StringIO(french[1:], newline=""), delimiter=";")}
    assert origins == {code: vocab.REPORT_SOURCES.label(code, "fr") for code in expected}  # the French variant is French


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_the_export_download_labels_codes_in_the_coordinators_language(reported, coordinator_client, locale):
    coordinator_client.get("/login")
    r = coordinator_client.post("/coordinator/exports/encounters.csv", headers={"Accept-Language": locale},
                                data={"csrf_token": coordinator_client.cookies.get("outreach_csrf")})
    assert r.status_code == 200
    row = next(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"), newline="")))
    assert row["place_type"] == "transport"
    assert row["place_type_label"] == vocab.PLACE_TYPES.label("transport", locale)


def test_bootstrap_sends_choices_labels_and_limits_from_the_vocabulary(field_client):
    body = field_client.get("/api/v1/bootstrap", headers={"Accept-Language": "fr"}).json()
    for name in ("place_type", "outcome", "interest", "age_band", "channel", "format"):
        assert body["choices"][name] == list(vocab.ALL[name].codes)
        assert body["labels"][name] == vocab.ALL[name].plain("fr")
    assert body["labels"]["place_type"]["transport"] == "Arrêt de transport"
    for name, limit in vocab.LIMITS.items():
        assert body["limits"][f"{name}_min"] == limit.min and body["limits"][f"{name}_max"] == limit.max
    # The keys the phone has always read are still there.
    assert {"max_entries", "note_max", "debrief_max", "people_count_max"} <= set(body["limits"])
    assert body["limits"]["people_count_max"] == vocab.LIMITS["people_count"].max


def test_openapi_bounds_come_from_the_limits_table():
    schemas = openapi.SCHEMAS
    people = schemas["EncounterData"]["properties"]["people_count"]
    assert (people["minimum"], people["maximum"]) == (vocab.LIMITS["people_count"].min, vocab.LIMITS["people_count"].max)
    assert schemas["ReportData"]["properties"]["title"]["maxLength"] == vocab.LIMITS["title"].max
    assert schemas["ReportData"]["properties"]["photos"]["maxItems"] == vocab.LIMITS["photos"].max
    assert schemas["OutingData"]["properties"]["debrief"]["maxLength"] == vocab.LIMITS["debrief"].max


# --- templates take limits from the vocabulary ----------------------------------------------------

# Form fields whose bounds the vocabulary owns, by the input's name.
OWNED_INPUTS = {
    "people_count": "people_count", "note": "note", "debrief": "debrief", "contact": "contact",
    "contact_name": "name", "name": "name", "reporter_name": "name", "title": "title",
    "description": "description", "address": "address", "where_detail": "where_detail",
    "reason": "status_message", "message": "status_message", "text": "reply",
}
_TAG = re.compile(r"<(?:input|textarea)\b[^>]*>")
_MACRO = re.compile(r"\{\{\s*(?:field|textarea)\(\s*'(?P<name>\w+)'.*?\}\}")
_LITERAL = re.compile(r"""\b(?:maxlength|minlength|max|min)\s*=\s*["']?\d""")


def test_no_template_writes_a_limit_the_vocabulary_owns():
    found = []
    for path in sorted((PACKAGE / "templates").rglob("*.html")):
        if "admin" in path.parts:
            continue  # admin forms edit reference data (zones, tools, consent texts), not vocabulary fields
        source = path.read_text(encoding="utf-8")
        for tag in _TAG.findall(source):
            name = re.search(r'\bname="(\w+)"', tag)
            if name and name.group(1) in OWNED_INPUTS and _LITERAL.search(tag):
                found.append(f"{path.name}: {tag}")
        for m in _MACRO.finditer(source):
            if m.group("name") in OWNED_INPUTS and _LITERAL.search(m.group(0)):
                found.append(f"{path.name}: {m.group(0)}")
    assert not found, "\n".join(found)


def test_the_phone_form_renders_the_vocabulary_limits(client):
    html = client.get("/app").text
    people = re.search(r'<input id="people-count"[^>]*>', html).group(0)
    assert f'max="{vocab.LIMITS["people_count"].max}"' in people and f'min="{vocab.LIMITS["people_count"].min}"' in people
    assert f'name="note" maxlength="{vocab.LIMITS["note"].max}"' in html
