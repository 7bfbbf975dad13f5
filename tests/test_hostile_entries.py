"""Hostile entries are rejected one by one, never a 500 for the batch: the good entries beside
them are stored (a batch answered 500 would be retried by the phone forever)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.test_report_api import NOW, report_data
from tests.test_sync import encounter, outing

GOOD_ID = "9b0e7a56-0c7c-4b2e-9d55-2a7f0c4a1f00"


def raw_entry(kind='"report"', id_='"%s"' % "1b0e7a56-0c7c-4b2e-9d55-2a7f0c4a1f01", data=None, extra="") -> str:
    data = data if data is not None else json.dumps(report_data())
    return f'{{"id": {id_}, "kind": {kind}, "version": 1, "created_at": "{NOW}", "data": {data}{extra}}}'


def report_with(**over) -> str:
    return raw_entry(data=json.dumps(report_data(**over)).replace('"@@', "").replace('@@"', ""))


HOSTILE_REPORTS = {
    "lat 10^400": raw_entry(data=json.dumps(report_data(location={"lat": 0, "lon": 5.7, "accuracy_m": 8}))
                            .replace('"lat": 0', '"lat": 1' + "0" * 400)),
    "lone surrogate in title": raw_entry(data=json.dumps(report_data()).replace("\"Jardini", "\"Jardin\\ud800i")),
    "lone surrogate in a key": raw_entry(data=json.dumps(report_data()).replace('"title"', '"ti\\ud800tle"')),
    "lone surrogate in the id": raw_entry(id_='"1b0e7a56-0c7c-4b2e-9d55-2a7f0c4a\\ud800"'),
    "lone surrogate in an entry key": raw_entry(extra=', "\\udfff": 1'),
    "kind is a list": raw_entry(kind="[]"),
    "kind is an object": raw_entry(kind='{"a": 1}'),
}


def batch(*entries: str, envelope='"device_id": "phone-0001"') -> bytes:
    return ('{' + envelope + ', "entries": [' + ", ".join(entries) + "]}").encode()


def good_report() -> str:
    return raw_entry(id_=f'"{uuid.uuid4()}"')


@pytest.mark.parametrize("name", sorted(HOSTILE_REPORTS))
def test_hostile_report_is_rejected_alone_through_the_resident_api(client, name):
    r = client.post("/api/v1/reports", content=batch(HOSTILE_REPORTS[name], good_report()),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "rejected" and first["message"]
    assert second["status"] == "created"


@pytest.mark.parametrize("name", sorted(HOSTILE_REPORTS))
def test_hostile_report_is_rejected_alone_through_sync(field_client, name):
    hostile = HOSTILE_REPORTS[name]
    good = json.dumps(encounter())
    r = field_client.post("/api/v1/sync", content=batch(hostile, good), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "rejected"
    assert second["status"] == "created"


@pytest.mark.parametrize("members", ["[123456789012345678901]", "[-123456789012345678901]", "[1e400]", '["\\ud800"]'])
def test_outing_members_out_of_any_range_are_rejected_alone(field_client, members):
    bad = json.dumps(outing()).replace('"members": []', f'"members": {members}')
    r = field_client.post("/api/v1/sync", content=batch(bad, json.dumps(encounter())),
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "created"]
    assert "data.members" in json.dumps(r.json()["results"][0]["errors"])


def test_an_encounter_at_latitude_10_400_is_rejected_alone(field_client):
    bad = json.dumps(encounter(location={"lat": 0, "lon": 5.7, "accuracy_m": 8})).replace('"lat": 0', '"lat": 1' + "0" * 400)
    r = field_client.post("/api/v1/sync", content=batch(bad, json.dumps(encounter())),
                          headers={"Content-Type": "application/json"})
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "created"]
