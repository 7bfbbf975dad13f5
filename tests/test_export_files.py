"""Exports read back as the programs and spreadsheets that open them would read them."""

import csv
import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from outreach.coordinator import decidim, exports
from outreach.coordinator.lists import Filters
from tests.coord_factories import add_encounter, add_outing, add_report, add_user

TIME_COLUMNS = {"encounters": ["occurred_at", "received_at"], "outings": ["started_at", "ended_at"],
                "reports": ["received_at", "closed_at"]}


def text_of(db, kind, fmt, f=Filters(), **options):
    return "".join(exports.chunks(db, kind, fmt, f, **options))


@pytest.fixture
def varied(fresh_db):
    """Rows of every kind with the awkward values: accents, separators, mixed precisions, negatives."""
    worker = add_user(fresh_db, name="Léa Dupré")
    o = add_outing(fresh_db, members=[worker], tallies={"petition": 4, "agora": 1}, debrief="Très bien; à refaire")
    fresh_db["outings"].update(o, {"ended_at": "2026-11-10T11:30:00.250+00:00"})
    add_encounter(fresh_db, occurred_at="2026-11-10T10:00:00+00:00", received_at="2026-11-10T10:00:01.123+00:00",
                  user_id=worker, outing_id=o, tools=["petition", "agora"], lat=45.1912, lon=-0.5714,
                  outcome="brief", note="Très intéressée, « budget » ; revient jeudi")
    add_encounter(fresh_db, occurred_at="2026-07-01T22:30:00+00:00", received_at="2026-07-01T22:31:00+00:00", zone=None)
    add_report(fresh_db, status="accepted", lat=45.18, lon=5.73, title="Banc; =HYPERLINK(\"http://x\")")
    fresh_db["reports"].update(list(fresh_db.query("select id from reports"))[0]["id"],
                               {"received_at": "2026-11-02T08:00:00.5+00:00"})
    return fresh_db


@pytest.mark.parametrize("kind", exports.KINDS)
def test_csv_for_programs_reads_back_with_csv_and_pandas(varied, kind):
    pd = pytest.importorskip("pandas")
    text = text_of(varied, kind, "csv")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline="")))
    assert rows, kind
    frame = pd.read_csv(io.StringIO(text[1:]), dtype=str, keep_default_na=False)
    for column in TIME_COLUMNS[kind]:
        values = [v for v in frame[column] if v]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", v) for v in values), (column, values)
        parsed = pd.to_datetime(frame[column].replace("", None))  # pandas infers one format for the column
        assert parsed.notna().sum() == len(values)
        if values:
            assert str(parsed.dt.tz) == "UTC"
    if kind == "encounters":
        assert rows[1]["note"] == "Très intéressée, « budget » ; revient jeudi"
        assert float(rows[1]["lon"]) == -0.5714 and rows[1]["worker_id"].isdigit()


def test_french_variant_has_labels_names_local_times_and_decimal_commas(varied):
    text = text_of(varied, "encounters", "csv-fr")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))
    first = next(r for r in rows if r["Agent"])
    assert first["Date et heure"] == "2026-11-10 11:00:00"  # 10:00 UTC is 11:00 in Paris in November
    assert first["Reçu le"] == "2026-11-10 11:00:01"
    assert first["Code issue"] == "brief" and first["Issue de l'échange"] == "Échange bref"
    assert sorted(first["Dispositifs présentés"].split(", ")) == ["Agora", "Pétition"]
    assert first["Agent"] == "Léa Dupré" and "worker_id" not in first
    assert first["Latitude"] == "45,1912" and first["Longitude"] == "-0,5714"
    assert first["Code secteur"] == "secteur-1" and first["Secteur"] not in ("", "secteur-1")  # its French label
    outing = list(csv.DictReader(io.StringIO(text_of(varied, "outings", "csv-fr")[1:], newline=""), delimiter=";"))[0]
    assert outing["Membres"] == "Léa Dupré" and outing["Fin"] == "2026-11-10 12:30:00"
    assert set(outing["Comptages"].split(", ")) == {"Pétition : 4", "Agora : 1"}


def test_each_variant_has_its_own_file_name():
    names = {exports.filename("encounters", fmt, "2026-07-02") for fmt in exports.FORMATS}
    assert len(names) == len(exports.FORMATS)
    assert exports.filename("reports", "decidim", "2026-07-02") not in names


@pytest.mark.parametrize("value, safe", [
    ("=1+1", "'=1+1"),
    ("Banc;=HYPERLINK(\"http://x\")", "Banc;'=HYPERLINK(\"http://x\")"),
    ("Banc, +33 6", "Banc, '+33 6"),
    ("a\t@SUM(A1)", "a\t'@SUM(A1)"),
    ("ligne\n-2+3", "ligne\n'-2+3"),
    ("\tcaché", "'\tcaché"),
    ("Banc à repeindre", "Banc à repeindre"),
])
def test_formula_characters_are_neutralised_after_any_separator(value, safe):
    assert exports.safe_cell(value) == safe


def test_a_comma_file_opened_with_semicolons_runs_no_formula(varied):
    """Split the comma export on ';' as a French spreadsheet might: no cell starts a formula."""
    for kind in exports.KINDS:
        for fmt in ("csv", "csv-fr"):
            text = text_of(varied, kind, fmt)
            for sep in (",", ";", "\t"):
                for line in text.splitlines():
                    for cell in line.split(sep):
                        assert not cell.strip().lstrip('"').startswith(("=", "@")), (kind, fmt, sep, cell)


# --- LibreOffice in the French locale -------------------------------------------------------


def soffice():
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI (./test installs libreoffice-calc-nogui)")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui); ./test installs it as root")
    return found


NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def open_in_libreoffice(path, tmp_path) -> list[list[tuple[str, str, str]]]:
    """Import a ;-separated UTF-8 CSV the way a French LibreOffice does; rows of (type, value, text)."""
    # CSV filter options: separator 59 (;), text delimiter 34 ("), charset 76 (UTF-8), first line 1,
    # no column formats, language 1036 (French), quoted fields not forced to text, detect numbers and dates.
    done = subprocess.run(
        [soffice(), "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         "--infilter=CSV:59,34,76,1,,1036,false,true", "--convert-to", "fods", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, env=dict(os.environ, LANG="fr_FR.UTF-8"))
    out = tmp_path / (path.stem + ".fods")
    assert out.exists(), done.stdout + done.stderr
    rows = []
    for row in ET.parse(out).getroot().iter(f"{{{NS['table']}}}table-row"):
        cells = []
        for cell in row.findall("table:table-cell", NS):
            repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            kind = cell.get(f"{{{NS['office']}}}value-type", "")
            value = cell.get(f"{{{NS['office']}}}value") or cell.get(f"{{{NS['office']}}}date-value") or ""
            text = "\n".join("".join(p.itertext()) for p in cell.findall("text:p", NS))
            cells += [(kind, value, text)] * min(repeat, 50)
        rows.append(cells)
    return rows


@pytest.mark.parametrize("kind", exports.KINDS)
def test_french_variant_opens_as_numbers_and_dates_in_libreoffice(varied, kind, tmp_path):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text_of(varied, kind, "csv-fr"), encoding="utf-8")
    rows = open_in_libreoffice(path, tmp_path)
    header = [text for _, _, text in rows[0]]
    assert header[0] == "Identifiant", "the byte-order mark is not part of the first header"
    data = [dict(zip(header, r)) for r in rows[1:] if any(t for _, _, t in r)]
    assert data
    for row in data:
        for name in ("Date et heure", "Reçu le", "Début", "Fin"):
            if name in row and row[name][2]:
                assert row[name][0] == "date", (name, row[name])
        for name in ("Latitude", "Longitude", "Personnes", "Bénévoles"):
            if name in row and row[name][2]:
                assert row[name][0] == "float", (name, row[name])
    if kind == "encounters":
        lea = next(r for r in data if r["Agent"][2])
        assert lea["Date et heure"][1].startswith("2026-11-10T11:00:00")
        assert float(lea["Longitude"][1]) == -0.5714
        assert lea["Note"][2] == "Très intéressée, « budget » ; revient jeudi", "accents intact"


# --- Decidim --------------------------------------------------------------------------------


def read_decidim(text):
    """Read the file as Decidim's importer does: Ruby CSV with col_sep ';' (no BOM handling)."""
    assert not text.startswith("\ufeff"), "Decidim's reader would keep a BOM in the first header"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return rows[0], rows[1:]


def test_decidim_proposals_file_follows_the_importer_rules(varied, fresh_db):
    wall_id = add_report(fresh_db, status="scheduled", title="Peindre le mur de l'école", description="Fresque avec les enfants",
                         lat=45.1871, lon=5.7245)
    fresh_db["reports"].update(wall_id, {"category": "wall", "address": "12 rue des Écoles", "scheduled_for": "2026-12-12"})
    add_report(fresh_db, status="submitted", title="Pas encore accepté")
    add_report(fresh_db, status="done", title="Déjà fait")
    text = text_of(fresh_db, "reports", "decidim", version="0.30", categories="wall=12 15")
    header, rows = read_decidim(text)
    # Required by Decidim's ProposalsVerifier: title/<default locale> and body/<default locale>; no duplicates.
    assert {"title/fr", "body/fr"} <= set(header) and len(header) == len(set(header))
    assert set(header) <= {"title/fr", "body/fr", "address", "latitude", "longitude", "scope/id", "taxonomies/ids"}
    assert len(rows) == 2  # accepted and scheduled; not submitted, not done
    for row in rows:
        record = dict(zip(header, row))
        assert record["title/fr"] and record["body/fr"]
        if record["latitude"]:
            assert -90 <= float(record["latitude"]) <= 90 and -180 <= float(record["longitude"]) <= 180
        if record["taxonomies/ids"]:
            assert all(part.isdigit() for part in record["taxonomies/ids"].split(","))
        assert record["scope/id"] == "" or record["scope/id"].isdigit()
    wall = dict(zip(header, next(r for r in rows if r[0].startswith("Peindre"))))
    assert wall["taxonomies/ids"] == "12,15" and wall["address"] == "12 rue des Écoles"
    assert "Fresque avec les enfants" in wall["body/fr"] and "12 déc. 2026" in wall["body/fr"]
    old_header, old_rows = read_decidim(text_of(fresh_db, "reports", "decidim", version="0.27", categories="wall=12 15"))
    assert "category/id" in old_header and "taxonomies/ids" not in old_header
    assert dict(zip(old_header, next(r for r in old_rows if r[0].startswith("Peindre"))))["category/id"] == "12"


@pytest.mark.parametrize("raw", ["wall", "wall=", "wall=abc", "=12", "wall=1.5"])
def test_a_bad_category_mapping_is_refused_at_start(raw, tmp_path):
    with pytest.raises(decidim.MappingError):
        decidim.parse_mapping(raw)
    from outreach.settings import Settings

    with pytest.raises(SystemExit, match="OUTREACH_DECIDIM_CATEGORIES"):
        Settings(data_dir=tmp_path, decidim_categories=raw)


def test_cli_writes_the_french_and_decidim_files(tmp_path, monkeypatch):
    from outreach import migrations, refdata
    from outreach.cli import main
    from outreach.db import connect

    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path))
    db = connect(tmp_path / "outreach.db")
    migrations.apply(db)
    refdata.seed(db)
    add_encounter(db, occurred_at="2026-07-01T22:30:00+00:00")
    add_report(db, status="accepted")
    db.close()
    fr = tmp_path / "fr.csv"
    assert main(["export", "encounters", "--format", "csv-fr", "--start", "2026-07-02", "-o", str(fr)]) == 0
    assert "2026-07-02 00:30:00" in fr.read_text(encoding="utf-8")
    dec = tmp_path / "decidim.csv"
    assert main(["export", "reports", "--format", "decidim", "-o", str(dec)]) == 0
    assert dec.read_text(encoding="utf-8").startswith("title/fr;body/fr;")
    assert main(["export", "encounters", "--format", "decidim"]) == 2
