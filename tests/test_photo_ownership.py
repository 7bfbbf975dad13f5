"""A photo belongs to the report that first named it: knowing its hash opens nothing.

Hashes leak (an accepted worksite's photo URL, a shared file); a resident who names someone
else's photo in their own report must not see it through their tracking link, and uploading
must not tell who holds which photo."""

from __future__ import annotations

import hashlib

from tests.test_report_api import envelope, jpeg, post, put, report_data


def test_naming_someone_elses_photo_does_not_show_it_on_ones_own_tracking_page(client):
    photo = jpeg(color=(200, 30, 30))
    sha = hashlib.sha256(photo).hexdigest()
    victim = post(client, envelope(report_data(photos=[sha]))).json()["results"][0]
    assert put(client, photo).status_code == 201
    assert client.get(victim["tracking_url"] + f"/photos/{sha}").status_code == 200

    attacker = post(client, envelope(report_data(title="Mon banc à moi", photos=[sha]))).json()["results"][0]
    assert attacker["status"] == "created"
    assert client.get(attacker["tracking_url"] + f"/photos/{sha}").status_code == 404
    assert f"/photos/{sha}" not in client.get(attacker["tracking_url"]).text


def test_a_put_of_a_known_hash_tells_nothing_without_the_bytes(client):
    photo = jpeg(color=(30, 200, 30))
    sha = hashlib.sha256(photo).hexdigest()
    assert put(client, photo).status_code == 201
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    known_answer = put(client, b"not the bytes", name=sha)
    unknown_answer = put(client, b"not the bytes", name=unknown)
    assert known_answer.status_code == unknown_answer.status_code == 400
    assert known_answer.json()["error"] == unknown_answer.json()["error"]
    assert put(client, photo).status_code == 200  # whoever holds the bytes may learn it is there
