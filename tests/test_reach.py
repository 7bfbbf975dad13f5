"""Reach for their size: people reached (conversations and tallies) per 1,000 residents, age bands
met against residents, the least-reached zones proposed for planning, and the pages showing them."""

from __future__ import annotations

import re
from datetime import date

import pytest

from outreach.coordinator import reach, stats
from outreach.zones import geojson, importer
from tests.coord_factories import add_encounter, add_outing
from tests.test_zones import MAPPING
from tests.zone_files import collection, dumps

NOV = stats.Period(date(2026, 11, 1), date(2026, 11, 30))
BANDS = ["under_18", "18_29", "30_44", "45_64", "65_plus"]


def import_zones(db):
    with db.atomic():
        importer.apply(db, importer.preview(db, geojson.read(dumps(collection()), MAPPING)), None)


@pytest.fixture
def city(fresh_db):
    """Zones aa (2,000 residents, ages known), bb (500), cc (1,000), dd (300); the seeded secteur-* have no population."""
    db = fresh_db
    import_zones(db)
    add_encounter(db, zone="aa", people_count=3, age_band="18_29", tools=["petition"])
    add_encounter(db, zone="aa", people_count=2, age_band="65_plus")
    add_encounter(db, zone="bb", people_count=1)
    add_encounter(db, zone="aa", people_count=40, occurred_at="2026-10-10T10:00:00+00:00", age_band="30_44")  # before
    add_outing(db, zone="bb", started_at="2026-11-12T09:00:00+00:00", tallies={"petition": 9})
    add_outing(db, zone="cc", started_at="2026-10-01T09:00:00+00:00")  # an outing, long ago, that reached nobody
    return db


def test_reach_per_1000_counts_conversations_and_tallied_people(city):
    rows = {r.code: r for r in reach.by_zone(city, NOV)}
    assert (rows["aa"].conversations, rows["aa"].tallied, rows["aa"].per_1000) == (5, 0, 2.5)  # 5 / 2,000
    assert (rows["bb"].conversations, rows["bb"].tallied, rows["bb"].per_1000) == (1, 9, 20.0)  # (1 + 9) / 500
    assert rows["cc"].per_1000 == 0.0



def test_the_dashboard_reads_the_tallies_once_with_the_same_reach(city):
    """The dashboard hands the tallies its overview already read to by_zone: same figures, also for one zone."""
    for period in (NOV, stats.Period(NOV.start, NOV.end, "bb")):
        once = reach.by_zone(city, period, reach.tallied_by_zone(stats.overview(city, period)))
        assert once == reach.by_zone(city, period)
        assert any(r.tallied for r in once)

def test_a_zone_without_population_has_no_rate_and_ranks_after_the_others(city):
    rows = reach.ranked(reach.by_zone(city, NOV))
    assert [r.code for r in rows[:4]] == ["cc", "dd", "aa", "bb"]  # 0, 0, 2.5, 20 per 1,000
    assert rows[4].code.startswith("secteur-") and rows[4].per_1000 is None and rows[4].population is None


def test_age_band_shares_of_residents_against_people_met(city):
    shares = reach.age_shares(city, NOV, BANDS)
    by_band = {r["band"]: r for r in shares["rows"]}
    # Residents of aa (the only zone with ages): 400, 600, 400, 400, 200 of 2,000.
    assert [by_band[b]["residents_share"] for b in BANDS] == [20, 30, 20, 20, 10]
    # People met with a band noted in November: 3 aged 18-29, 2 aged 65+.
    assert [by_band[b]["met_share"] for b in BANDS] == [0, 60, 0, 0, 40]
    assert shares["met_total"] == 5 and shares["zones"] == ["aa"]


def test_no_age_shares_when_no_zone_has_them(fresh_db):
    assert reach.age_shares(fresh_db, NOV, BANDS) is None


def test_proposals_are_the_least_reached_then_the_longest_without_an_outing(city):
    got = reach.proposals(city, NOV, date(2026, 12, 1), limit=5)
    # cc and dd both reached nobody: dd never had an outing, cc had one 61 days ago.
    assert [p["reach"].code for p in got] == ["dd", "cc", "aa", "bb", "secteur-1"]
    assert got[0]["last_outing"] is None and got[1]["days_since"] == 61


def test_overview_counts_tallied_people_apart_and_in_the_zone_tables(city):
    o = stats.overview(city, NOV)
    assert o["totals"]["people"] == 6 and o["totals"]["tallied"] == 9 and o["totals"]["reached"] == 15
    assert o["zone_tool"]["bb"] == {"petition": 9} and o["zone_tool_tallied"]["bb"] == {"petition": 9}
    assert o["zone_week"]["bb"] == {"2026-W46": 10} and o["zone_week_tallied"]["bb"] == {"2026-W46": 9}


def test_nine_tallied_people_appear_in_the_dashboard_and_the_outing_report(coordinator_client, store):
    with store.write() as db:
        outing = add_outing(db, zone="secteur-2", started_at="2026-11-12T09:00:00+00:00",
                            tallies={"participatory_budget": 5, "petition": 4})
        add_encounter(db, zone="secteur-2", people_count=1, outing_id=outing, tools=["petition"])
    page = coordinator_client.get("/coordinator?start=2026-11-01&end=2026-11-30").text
    table = page[page.index('id="zone-tool-title"'):page.index('id="zone-week-title"')]
    row = table[table.index("Secteur 2"):].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0].startswith("5") and "dont 5 comptées" in cells[0]  # participatory budget: tallied only
    assert cells[1].startswith("5") and "dont 4 comptées" in cells[1]  # petition: 1 in conversation + 4 tallied
    report = coordinator_client.get(f"/coordinator/outings/{outing}").text
    assert re.search(r'id="people-reached">10<', report)  # 1 person in conversation + 9 tallied
    assert "Personnes comptées</dt><dd>9<" in report


def test_dashboard_draws_the_zones_with_their_reach_and_says_when_population_is_unknown(coordinator_client, store):
    with store.write() as db:
        import_zones(db)
        add_encounter(db, zone="aa", people_count=3)
    page = coordinator_client.get("/coordinator?start=2026-11-01&end=2026-11-30").text
    svg = page[page.index('<svg class="choro"'):page.index("</svg>", page.index('<svg class="choro"'))]
    assert svg.count("<path") == 4 and 'data-zone="aa"' in svg and "1,5 pour 1 000 habitants" in svg
    assert "pas de taux : population inconnue" in page  # the seeded sectors have no population
    assert "18–29 ans : 30 % des habitants" in page


def test_planning_page_proposes_zones_and_prefills_the_form(coordinator_client, store):
    with store.write() as db:
        import_zones(db)
    page = coordinator_client.get("/coordinator/planning?weeks=4").text
    assert 'id="proposals"' in page and "Planifier cette sortie" in page and "Plus d'options" in page
    form = coordinator_client.get("/coordinator/planning?zone=dd").text
    assert re.search(r'<option value="dd" selected', form)


def test_a_proposal_gives_the_next_planned_outing_in_words_after_a_separator(coordinator_client, store):
    from datetime import datetime, timedelta, timezone

    soon = (datetime.now(timezone.utc) + timedelta(days=3)).date()
    with store.write() as db:
        add_outing(db, zone="secteur-3", status="planned", planned_date=soon.isoformat())
    page = coordinator_client.get("/coordinator/planning", headers={"Accept-Language": "fr"}).text
    item = next(li for li in re.findall(r'<li class="proposal"[^>]*>(.*?)</li>', page, re.S) if "prochaine prévue" in li)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item))
    assert soon.isoformat() not in text and f" · prochaine prévue le {soon.day} " in text


@pytest.mark.parametrize("weeks", ["0", "-4", "abc", "9999999999", "<script>"])
def test_planning_page_ignores_a_bad_period(coordinator_client, weeks):
    r = coordinator_client.get("/coordinator/planning", params={"weeks": weeks})
    assert r.status_code == 200 and "<script>" not in r.text.split("<main")[1].split("</main>")[0].replace(
        '<script type="application/json"', "")
