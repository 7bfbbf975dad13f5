"""Days and weeks are the city's local days (OUTREACH_TIMEZONE), wherever a coordinator reads them."""

import csv
import io
import os
import subprocess
import sys
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from outreach import localtime
from outreach.coordinator import exports, stats
from outreach.coordinator.lists import Filters, encounters_page
from outreach.settings import Settings
from tests.coord_factories import add_encounter, add_outing

PARIS = ZoneInfo("Europe/Paris")


def csrf(client):
    client.get("/login")
    return client.cookies.get("outreach_csrf")


def one_day(d: date, zone=None) -> stats.Period:
    return stats.Period(d, d, zone)


def french_rows(db, kind="encounters", f=Filters()):
    text = "".join(exports.chunks(db, kind, "csv-fr", f))
    return list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))


def test_half_past_ten_utc_on_1_july_counts_on_2_july_everywhere(fresh_db, ):
    """22:30Z on 1 July is 00:30 on 2 July in Grenoble: dashboard, lists and the French export agree."""
    eid = add_encounter(fresh_db, occurred_at="2026-07-01T22:30:00+00:00", tools=["petition"])
    assert stats.overview(fresh_db, one_day(date(2026, 7, 2)))["totals"]["encounters"] == 1
    assert stats.overview(fresh_db, one_day(date(2026, 7, 1)))["totals"]["encounters"] == 0
    assert stats.overview(fresh_db, one_day(date(2026, 7, 2)))["tools"]["petition"]["presented"] == 1
    assert [r["id"] for r in encounters_page(fresh_db, Filters(start=date(2026, 7, 2), end=date(2026, 7, 2)))["rows"]] == [eid]
    assert encounters_page(fresh_db, Filters(start=date(2026, 7, 1), end=date(2026, 7, 1)))["rows"] == []
    row = french_rows(fresh_db, f=Filters(start=date(2026, 7, 2), end=date(2026, 7, 2)))[0]
    assert row["Date et heure"] == "2026-07-02 00:30:00"


def test_the_same_through_the_pages(coordinator_client, store):
    with store.write() as db:
        add_encounter(db, occurred_at="2026-07-01T22:30:00+00:00")
    page = coordinator_client.get("/coordinator/encounters?start=2026-07-02&end=2026-07-02").text
    assert page.count("<time") == 1
    assert "2 juil. 2026 à 0 h 30" in page, "shown local and in words"
    assert coordinator_client.get("/coordinator/encounters?start=2026-07-01&end=2026-07-01").text.count("<time") == 0
    r = coordinator_client.post("/coordinator/exports/encounters.csv-fr",
                                data={"csrf_token": csrf(coordinator_client), "start": "2026-07-02", "end": "2026-07-02"})
    assert "2026-07-02 00:30:00" in r.content.decode("utf-8")


def test_the_night_the_clocks_change_lands_on_29_march(fresh_db):
    """00:30 at +01:00 on 29 March 2026, the night Paris goes to summer time, is 29 March."""
    add_encounter(fresh_db, occurred_at="2026-03-28T23:30:00+00:00")  # as sync stores 2026-03-29T00:30:00+01:00
    add_encounter(fresh_db, occurred_at="2026-03-29T01:30:00+00:00")  # 03:30 summer time, same day
    assert stats.overview(fresh_db, one_day(date(2026, 3, 29)))["totals"]["encounters"] == 2
    assert stats.overview(fresh_db, one_day(date(2026, 3, 28)))["totals"]["encounters"] == 0
    assert localtime.day_of("2026-03-29T00:30:00+01:00", PARIS) == "2026-03-29"
    assert [r["Date et heure"] for r in french_rows(fresh_db)] == ["2026-03-29 00:30:00", "2026-03-29 03:30:00"]


def test_iso_weeks_are_local_weeks(fresh_db):
    """Sunday 4 Jan 2026 at 23:30 UTC is Monday 5 Jan 00:30 in Paris: week 2, not week 1."""
    add_encounter(fresh_db, occurred_at="2026-01-04T23:30:00+00:00", zone="secteur-1")
    add_encounter(fresh_db, occurred_at="2026-01-04T22:30:00+00:00", zone="secteur-1")  # Sunday 23:30 local
    o = stats.overview(fresh_db, stats.Period(date(2025, 12, 29), date(2026, 1, 11)))
    assert o["weeks"] == ["2026-W01", "2026-W02"]
    assert o["zone_week"]["secteur-1"] == {"2026-W01": 1, "2026-W02": 1}


def test_outings_count_on_the_local_day_they_started(fresh_db):
    add_outing(fresh_db, started_at="2026-07-01T22:15:00+00:00")
    assert stats.overview(fresh_db, one_day(date(2026, 7, 2)))["outings"] == {"ended": 1}


def test_sync_fast_path_counts_local_days_like_a_rebuild(fresh_db):
    """The batch writer (add_encounter_rows) and the rebuild agree on local days."""
    rows = [("2026-07-01T22:30:00+00:00", "secteur-1", "brief", "curious", "street", 2, ["agora"]),
            ("2026-03-28T23:30:00+00:00", None, "brief", "none", "market", 1, [])]
    with fresh_db.atomic():
        stats.add_encounter_rows(fresh_db, rows)
    counted = sorted(fresh_db.execute("select * from agg_encounters").fetchall())
    assert {r[1] for r in counted} == {"2026-07-02", "2026-03-29"}


def test_changing_the_timezone_rebuilds_the_summaries(fresh_db):
    add_encounter(fresh_db, occurred_at="2026-07-01T22:30:00+00:00")
    with fresh_db.atomic():
        assert localtime.configure(fresh_db, "America/Montreal") is True
    assert stats.overview(fresh_db, one_day(date(2026, 7, 1)))["totals"]["encounters"] == 1  # 18:30 in Montreal
    with fresh_db.atomic():
        assert localtime.configure(fresh_db, "America/Montreal") is False


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Europe/Paris ", "../../etc/passwd", "UTC" * 30])
def test_an_unknown_timezone_stops_at_start(name, tmp_path):
    with pytest.raises(SystemExit, match="OUTREACH_TIMEZONE"):
        Settings(data_dir=tmp_path, timezone=name)
    with pytest.raises(SystemExit, match="OUTREACH_TIMEZONE"):
        Settings.from_env({"OUTREACH_TIMEZONE": name, "OUTREACH_DATA_DIR": str(tmp_path)})


def test_the_server_refuses_to_start_with_an_unknown_timezone(tmp_path):
    env = dict(os.environ, OUTREACH_TIMEZONE="Europe/Grenoble", OUTREACH_DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "outreach", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "unknown timezone 'Europe/Grenoble'" in done.stderr


@pytest.mark.parametrize("value, fr, en", [
    ("2026-12-01T13:05:00+00:00", "1 déc. 2026 à 14 h 05", "1 Dec 2026, 14:05"),
    ("2026-07-01T22:30:00Z", "2 juil. 2026 à 0 h 30", "2 Jul 2026, 00:30"),
    ("2026-12-12", "12 déc. 2026", "12 Dec 2026"),
])
def test_times_in_words_are_local(value, fr, en):
    assert localtime.in_words(value, PARIS, "fr") == fr
    assert localtime.in_words(value, PARIS, "en") == en


def test_tallies_and_age_bands_count_on_the_local_day_too(fresh_db):
    """An outing started at 22:30Z on 1 July tallied on 2 July (Grenoble), like its encounters; the
    people met by age band and the zone's last outing use the same local day."""
    from outreach.coordinator import reach

    add_outing(fresh_db, zone="secteur-1", started_at="2026-07-01T22:30:00+00:00", tallies={"petition": 4})
    add_encounter(fresh_db, zone="secteur-1", occurred_at="2026-07-01T22:40:00+00:00", age_band="18_29")
    on_2 = stats.overview(fresh_db, one_day(date(2026, 7, 2)))
    assert on_2["totals"]["tallied"] == 4
    assert on_2["zone_week_tallied"]["secteur-1"] == {"2026-W27": 4}
    assert stats.overview(fresh_db, one_day(date(2026, 7, 1)))["totals"]["tallied"] == 0
    assert stats.people_by_band(fresh_db, one_day(date(2026, 7, 2)), ["secteur-1"]) == {"18_29": 1}
    assert stats.people_by_band(fresh_db, one_day(date(2026, 7, 1)), ["secteur-1"]) == {}
    assert reach._last_outings(fresh_db)["secteur-1"] == "2026-07-02"
