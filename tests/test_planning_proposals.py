"""Planning from a proposal in one step: each proposed zone carries a small form, prefilled with the
team's usual plan, whose one submit plans the outing (same checks and messages as the full form);
the same form sent twice plans one outing."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from outreach import localtime
from outreach.coordinator import planning
from tests.coord_factories import add_outing


class FormFields(HTMLParser):
    """The fields a browser would send for the first form of an HTML fragment (as a list of pairs)."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done or not a.get("name") and tag != "option":
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._done = True


def proposal_form(page: str, zone: str) -> list[tuple[str, str]]:
    item = re.search(rf'<li class="proposal" id="proposal-{re.escape(zone)}">(.*?)</li>', page, re.S)
    assert item, f"no proposal for {zone}"
    parser = FormFields()
    parser.feed(item.group(1))
    return parser.fields


def as_form(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Pairs as the test client posts them: a repeated name (the team's checkboxes) as a list."""
    out: dict[str, str | list[str]] = {}
    for k, v in pairs:
        if k == "members":
            out.setdefault(k, []).append(v)
        else:
            out[k] = v
    return out


def city_today() -> date:
    return localtime.today(localtime.zone("Europe/Paris"))


@pytest.fixture
def team(store, make_user):
    """Two field workers, and an outing they went on in secteur-2 (its team, format and meeting point)."""
    alice, bob = make_user("field", name="Alice"), make_user("field", name="Bob")
    with store.write() as db:
        past = add_outing(db, zone="secteur-2", status="planned", planned_date=(city_today() - timedelta(days=7)).isoformat(),
                          fmt="market", members=[alice["id"], bob["id"]])
        db["outings"].update(past, {"planned_start": "09:30", "planned_end": "12:00", "meeting_point": "Halle Saint-Bruno"})
    return alice, bob


def test_a_proposal_is_prefilled_with_the_teams_usual_plan(coordinator_client, make_user, team):
    alice, bob = team
    fields = dict(proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-2"))
    assert fields["zone"] == "secteur-2" and fields["proposal"] == "secteur-2"
    assert fields["planned_date"] == planning.next_working_day(city_today()).isoformat()
    assert date.fromisoformat(fields["planned_date"]).weekday() < 5
    assert (fields["planned_start"], fields["planned_end"]) == ("09:30", "12:00")  # the usual hours
    assert (fields["format"], fields["meeting_point"]) == ("market", "Halle Saint-Bruno")
    members = [v for k, v in proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-2") if k == "members"]
    assert members == [str(alice["id"]), str(bob["id"])]
    # The small form offers the people of the latest outings; a newcomer is in the full form only.
    newcomer = make_user("field", name="Chloé Nouvelle")
    page = coordinator_client.get("/coordinator/planning").text
    item = re.search(r'<li class="proposal" id="proposal-secteur-2">(.*?)</li>', page, re.S).group(1)
    assert f'value="{alice["id"]}"' in item and f'value="{newcomer["id"]}"' not in item
    assert f'value="{newcomer["id"]}"' in page[page.index('id="new-outing"'):]
    # Another zone takes the same team and hours, but never another zone's meeting point.
    other = dict(proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-1"))
    assert (other["planned_start"], other["meeting_point"]) == ("09:30", "")


def test_without_any_history_a_proposal_offers_an_afternoon_and_asks_for_the_team(coordinator_client):
    page = coordinator_client.get("/coordinator/planning").text
    fields = dict(proposal_form(page, "secteur-1"))
    assert (fields["planned_start"], fields["planned_end"]) == planning.DEFAULT_HOURS
    item = re.search(r'<li class="proposal" id="proposal-secteur-1">(.*?)</li>', page, re.S).group(1)
    assert '<details class="proposal-more" open>' in item  # team and meeting point are to be chosen


def test_one_submit_of_a_proposal_plans_the_outing_once(coordinator_client, store, team):
    sent = as_form(proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-2"))
    r = coordinator_client.post("/coordinator/planning", data=sent, follow_redirects=False)
    assert r.status_code == 303 and "done=planned" in r.headers["location"]
    planned = list(store.db().query("select * from outings where status = 'planned' and plan_key is not null"))
    assert len(planned) == 1
    outing = planned[0]
    assert (outing["zone"], outing["planned_start"], outing["meeting_point"]) == ("secteur-2", "09:30", "Halle Saint-Bruno")
    assert store.db()["outing_members"].count_where("outing_id = ?", [outing["id"]]) == 2
    page = coordinator_client.get(r.headers["location"]).text
    confirmation = html.unescape(re.sub(r"\s+", " ", re.search(r'id="planned-confirmation">(.*?)</div>', page, re.S).group(1)))
    assert "Sortie planifiée : Secteur 2" in confirmation and "09:30–12:00" in confirmation and "Alice, Bob" in confirmation
    assert 'class="just-planned"' in page
    # The same form again (a double click, a retry): the same outing, nothing more written.
    again = coordinator_client.post("/coordinator/planning", data=sent, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    assert store.db()["outings"].count_where("plan_key is not null") == 1
    assert store.db()["audit_log"].count_where("action = 'outing_planned'") == 1


def test_the_full_form_sent_twice_plans_one_outing_too(coordinator_client, store, team):
    page = coordinator_client.get("/coordinator/planning?zone=secteur-4").text
    key = re.search(r'name="plan_key" value="([^"]+)"', page[page.index('id="new-outing"'):]).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "plan_key": key, "zone": "secteur-4", "format": "stand", "planned_date": (city_today() + timedelta(days=3)).isoformat(),
            "planned_start": "10:00", "planned_end": "11:00", "meeting_point": "Parvis", "members": [str(team[0]["id"])]}
    first = coordinator_client.post("/coordinator/planning", data=form, follow_redirects=False)
    second = coordinator_client.post("/coordinator/planning", data=form, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    assert store.db()["outings"].count_where("zone = 'secteur-4'") == 1


@pytest.mark.parametrize("change, message", [
    ({"planned_date": "2020-01-01"}, "La date est passée"),
    ({"planned_date": "31/12/2026"}, "AAAA-MM-JJ"),
    ({"planned_date": "x" * 5000}, "AAAA-MM-JJ"),
    ({"planned_start": "25:00"}, "HH:MM"),
    ({"planned_end": "<script>alert(1)</script>"}, "HH:MM"),
    ({"planned_start": "16:00", "planned_end": "15:00"}, "L'heure de fin est avant"),
    ({"zone": "<b>zz</b>", "proposal": "<b>zz</b>"}, "Choisissez un secteur"),
    ({"format": "party"}, "Choisissez un format"),
    ({"meeting_point": " "}, "Dites où l'équipe se retrouve"),
    ({"members": None}, "au moins un membre"),
    ({"members": ["1 or 1=1"]}, "Membre de l'équipe inconnu"),
    ({"plan_key": "not-a-key"}, "rechargez la page"),
    ({"plan_key": "9" * 300}, "rechargez la page"),
])
def test_a_bad_proposal_form_says_why_and_writes_nothing(coordinator_client, store, team, change, message):
    sent = as_form(proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-2"))
    sent["members"] = [str(m["id"]) for m in team]
    for key, value in change.items():
        if value is None:
            sent.pop(key)
        else:
            sent[key] = value
    before = store.db()["outings"].count
    r = coordinator_client.post("/coordinator/planning", data=sent)
    assert r.status_code == 400
    text = html.unescape(r.text)
    assert "La sortie n'a pas été planifiée." in text and message in text
    assert "<script>alert" not in r.text and "<b>zz" not in r.text
    assert store.db()["outings"].count == before


def test_a_refused_proposal_keeps_what_was_sent_in_its_own_form(coordinator_client, team):
    sent = as_form(proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-2"))
    sent.update(planned_start="16:00", planned_end="15:00", members=[str(team[0]["id"])])
    page = coordinator_client.post("/coordinator/planning", data=sent).text
    fields = proposal_form(page, "secteur-2")
    assert ("planned_start", "16:00") in fields and [v for k, v in fields if k == "members"] == [str(team[0]["id"])]
    assert 'href="#proposal-secteur-2"' in page
    item = re.search(r'<li class="proposal" id="proposal-secteur-2">(.*?)</li>', page, re.S).group(1)
    assert "L&#39;heure de fin est avant" in item or "L'heure de fin est avant" in html.unescape(item)
    full_form = page[page.index('id="new-outing"'):]
    assert "field-error" not in full_form  # the full form is not blamed


def test_a_proposal_without_its_csrf_token_changes_nothing(coordinator_client, store, team):
    sent = as_form(proposal_form(coordinator_client.get("/coordinator/planning").text, "secteur-2"))
    del sent["csrf_token"]
    r = coordinator_client.post("/coordinator/planning", data=sent)
    assert r.status_code == 403 and store.db()["outings"].count_where("plan_key is not null") == 0
