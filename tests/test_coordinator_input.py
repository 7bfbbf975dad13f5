"""Bad input on every coordinator form and filter: a clear message, nothing changed, never a 500."""

import html

from datetime import date, timedelta

import pytest

from tests.coord_factories import add_encounter

LIST_PAGES = ["/coordinator", "/coordinator/encounters", "/coordinator/outings", "/coordinator/map", "/coordinator/exports"]

BAD_FILTERS = [
    ("start=30/11/2026", "AAAA-MM-JJ"),
    ("end=2026-13-45", "AAAA-MM-JJ"),
    ("start=2026-11-30&end=2026-11-01", "avant la date de début"),
    ("start=99999-01-01", "AAAA-MM-JJ"),
    ("zone=secteur-99", "Secteur inconnu"),
    ("zone=<script>alert(1)</script>", "Secteur inconnu"),
    ("zone=' OR 1=1 --", "Secteur inconnu"),
    ("start=" + "9" * 500, "trop longue"),
]
LIST_ONLY = [
    ("tool=teleportation", "Dispositif de participation inconnu"),
    ("outcome=maybe", "Issue inconnue"),
    ("interest=%00", "intérêt inconnu"),
    ("worker=-1", "Membre de l'équipe inconnu"),
    ("worker=" + "9" * 40, "Membre de l'équipe inconnu"),
    ("after=garbage", "lien de page"),
    ("after=2026-11-01T00:00:00~../../etc/passwd", "lien de page"),
    ("after=" + "9" * 30 + "~abc", "lien de page"),
    ("page=1000000000000", "liens en bas de la liste"),
    ("page=-5", "liens en bas de la liste"),
    ("page=abc", "liens en bas de la liste"),
]


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("query, message", BAD_FILTERS)
def test_bad_filters_get_a_clear_message(coordinator_client, url, query, message):
    r = coordinator_client.get(f"{url}?{query}")
    assert r.status_code == 400, r.text[:500]
    assert message in html.unescape(r.text)
    assert "<script>alert(1)</script>" not in r.text


@pytest.mark.parametrize("url", ["/coordinator/encounters", "/coordinator/map"])
@pytest.mark.parametrize("query, message", LIST_ONLY)
def test_bad_list_filters_get_a_clear_message(coordinator_client, url, query, message):
    r = coordinator_client.get(f"{url}?{query}")
    assert r.status_code == 400 and message in html.unescape(r.text)


@pytest.mark.parametrize("query", ["page=1", "unknown=1", "after=9999-12-31T00:00:00~zz", "start=0001-01-01"])
def test_odd_but_harmless_parameters_are_fine(coordinator_client, store, query):
    with store.write() as db:
        add_encounter(db)
    r = coordinator_client.get(f"/coordinator/encounters?{query}")
    assert r.status_code == 200


@pytest.mark.parametrize("query", ["start=2026-13-01", "zone=nowhere", "end=2026-02-30", "start=" + "9" * 300])
def test_bad_export_filters(coordinator_client, store, query):
    from urllib.parse import parse_qsl

    form = dict(parse_qsl(query), csrf_token=csrf(coordinator_client))
    r = coordinator_client.post("/coordinator/exports/encounters.csv", data=form)
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert store.db()["audit_log"].count == 0  # refused exports are not recorded as done


def test_bad_map_data_is_json(coordinator_client):
    r = coordinator_client.get("/coordinator/map.geojson?zone=nowhere")
    assert r.status_code == 400 and r.json()["detail"]["zone"] == "Secteur inconnu."


def test_period_longer_than_three_years_is_refused(coordinator_client):
    r = coordinator_client.get("/coordinator?start=2010-01-01&end=2026-01-01")
    assert r.status_code == 400 and "trois ans" in r.text


def csrf(client):
    client.get("/login")
    return client.cookies.get("outreach_csrf")


def future(days=5):
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "form, field_message",
    [
        ({"zone": "secteur-99", "planned_date": future(), "format": "market"}, "Choisissez un secteur"),
        ({"zone": "secteur-1", "planned_date": "15/01/2027", "format": "market"}, "AAAA-MM-JJ"),
        ({"zone": "secteur-1", "planned_date": "2020-01-01", "format": "market"}, "La date est passée"),
        ({"zone": "secteur-1", "planned_date": future(), "format": "<b>party</b>"}, "Choisissez un format"),
        ({"zone": "secteur-1", "planned_date": future(), "format": "market", "members": ["999999"]}, "Membre de l'équipe inconnu"),
        ({"zone": "secteur-1", "planned_date": future(), "format": "market", "members": ["1; drop table outings"]}, "Membre de l'équipe inconnu"),
        ({"zone": "secteur-1", "planned_date": future(), "format": "market", "members": []}, "au moins un membre"),
        ({"planned_start": "25:00"}, "HH:MM"),
        ({"planned_end": "9h"}, "HH:MM"),
        ({"planned_start": "16:00", "planned_end": "15:59"}, "L'heure de fin est avant"),
        ({"meeting_point": "   "}, "Dites où l'équipe se retrouve"),
        ({"meeting_point": "x" * 201}, "moins de 200 caractères"),
        ({"meeting_lat": "45.2"}, "latitude et une longitude"),
        ({"meeting_lat": "91", "meeting_lon": "5"}, "latitude et une longitude"),
        ({"meeting_lat": "1e400", "meeting_lon": "nan"}, "latitude et une longitude"),
    ],
)
def test_bad_planning_forms(coordinator_client, make_user, store, form, field_message):
    worker = make_user("field")
    form = {"zone": "secteur-1", "planned_date": future(), "format": "market", "planned_start": "10:00",
            "planned_end": "12:00", "meeting_point": "Place Saint-Bruno", **form}
    form.setdefault("members", [str(worker["id"])])
    r = coordinator_client.post("/coordinator/planning", data={"csrf_token": csrf(coordinator_client), **form})
    assert r.status_code == 400 and field_message in html.unescape(r.text)
    assert store.db()["outings"].count == 0


def test_forms_without_csrf_token_change_nothing(coordinator_client, make_user, store):
    worker = make_user("field")
    r = coordinator_client.post("/coordinator/planning", data={"zone": "secteur-1", "planned_date": future(), "format": "market",
                                                               "members": [str(worker["id"])]})
    assert r.status_code == 403 and store.db()["outings"].count == 0


@pytest.mark.parametrize("identifier", ["", "bob", "<script>", "' OR '1'='1", "x" * 5000, "12"])
def test_bad_privacy_identifiers(coordinator_client, identifier):
    r = coordinator_client.post("/coordinator/privacy", data={"csrf_token": csrf(coordinator_client), "identifier": identifier})
    assert r.status_code == 400 and "adresse e-mail ou un numéro" in r.text


def test_unknown_ids_in_paths(coordinator_client):
    token = csrf(coordinator_client)
    assert coordinator_client.post("/coordinator/followups/not-a-contact/done", data={"csrf_token": token}).status_code == 404
    assert coordinator_client.post("/coordinator/followups/..%2F..%2Fetc/done", data={"csrf_token": token}).status_code == 404
    assert coordinator_client.post("/coordinator/planning/nope/cancel", data={"csrf_token": token, "confirm": "yes"}).status_code == 400
    assert coordinator_client.get("/coordinator/planning/nope/cancel").status_code == 404
    assert coordinator_client.get("/coordinator/outings/<script>").status_code == 404
    assert coordinator_client.get("/coordinator/followups?purpose=<b>").status_code == 400
    assert coordinator_client.get("/coordinator/audit?before=1e99").status_code == 400
    assert coordinator_client.get("/coordinator/audit?action=<b>").status_code == 400
    assert coordinator_client.get("/coordinator/audit?before=" + "9" * 12).status_code == 200


@pytest.mark.parametrize("query", ["end=2025-01-01", "start=2030-01-01", "start=2026-01-01", "zone="])
def test_one_bound_alone_is_a_valid_period(coordinator_client, query):
    assert coordinator_client.get(f"/coordinator?{query}").status_code == 200
