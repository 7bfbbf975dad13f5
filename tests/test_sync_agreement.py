"""The sync intake's fast path and its reference path give the very same answers.

The fast path reads the body with msgspec, checks encounters with a msgspec shape and writes the
canonical text with orjson; the reference path reads with ``json``, checks every encounter field by
field and writes the canonical text with ``json``. A few thousand random mutations of valid
entries (wrong types, out-of-range and huge numbers, unknown codes, NaN, lone surrogates, deep
nesting, tiny floats, missing and unknown keys) must get the same status, errors, hash and
stored values through both, whatever kinds share a batch.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import timedelta

import pytest

from outreach import canonical as canon
from outreach.field import encounters, sync
from outreach.web import ApiError, parse_json
from tests.test_reports import report_data
from tests.test_sync import encounter, iso, make_user, outing


def deep(n: int):
    value: object = "bottom"
    for _ in range(n):
        value = [value]
    return value


HOSTILE = [
    None, True, False, 0, 1, -1, 201, 10**30, -(10**20), 2**63, 2**64, 1.5, 1e300, float("nan"), float("inf"),
    1e-7, -1e-5, 5e-324, 0.0001, -0.0, "", " ", "x" * 600, "\ud800", "a\udc00b", "bad\x00byte", "fr\n",
    "secteur-1", "secteur-99", "street", "brief", "curious", "petition", "nope", "18_29", "street_furniture",
    "3f0c6a4e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", "3F0C6A4E-1B2C-4D3E-8F9A-0B1C2D3E4F5A", "2026-11-30T10:00:00",
    "2020-01-01T00:00:00Z", iso(), iso(timedelta(days=2)), [], [1], ["petition"], ["petition", "petition"],
    ["nope"], ["petition", 3], {}, {"x": 1}, {"lat": 45.1, "lon": 5.7}, {"lat": 1e-7, "lon": 0, "accuracy_m": 0},
    {"lat": 95, "lon": 5.7}, {"lat": True, "lon": 5.7}, {"lat": 45.1, "lon": 5.7, "accuracy_m": 10**30},
    {"age_band": "18_29", "language": "fr"}, {"language": "FR"}, deep(40), deep(300),
]


def valid_entries(rng: random.Random) -> list[dict]:
    """A phone's usual batch: encounters of every shape, an outing, a report filed with a resident."""
    out = []
    for _ in range(rng.randint(3, 8)):
        out.append(encounter(
            zone=rng.choice(["secteur-1", "secteur-2", None]),
            location=rng.choice([None, {"lat": 45.18349, "lon": 5.7249, "accuracy_m": 12.6},
                                 {"lat": -12, "lon": 170, "accuracy_m": None}, {"lat": 0.00002, "lon": 5, "accuracy_m": 3}]),
            audience=rng.choice([None, {"age_band": "65_plus"}, {"language": "ar"}]),
            tools=rng.choice([[], ["petition"], ["participatory_budget", "agora", "votation"]]),
            note=rng.choice(["", "  a note  ", "é" * 500, "line\nbreak"]),
            outing_id=rng.choice([None, str(uuid.uuid4()).upper()]),
        ))
    out.append(outing(tallies={"petition": rng.randint(0, 9)}))
    out.append({"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": iso(), "data": report_data()})
    rng.shuffle(out)
    return out


def slots(value, path=()):
    """Every (container, key) of an entry, nested ones included."""
    if isinstance(value, dict):
        for key in list(value):
            yield value, key
            yield from slots(value[key], path + (key,))
    elif isinstance(value, list):
        for i in range(len(value)):
            yield value, i
            yield from slots(value[i], path + (i,))


def mutate(rng: random.Random, entry: dict) -> None:
    """One or two random changes anywhere in the entry: a hostile value, a key removed or added."""
    for _ in range(rng.randint(1, 2)):
        places = list(slots(entry))
        container, key = rng.choice(places)
        roll = rng.random()
        if roll < 0.15 and isinstance(container, dict):
            del container[key]
        elif roll < 0.25 and isinstance(container, dict):
            container[rng.choice(["extra", "zone", "note", "tools", "follow_up", "kind", "location"])] = rng.choice(HOSTILE)
        else:
            container[key] = copy.deepcopy(rng.choice(HOSTILE))


def reference_canonical(data, *, plain=False) -> bytes:
    return canon.canonical(data).encode("utf-8")


def answers(db, user, entries, *, fast: bool, monkeypatch) -> list:
    """What prepare() decides for each entry: its rejection, or the hash, text and clean values it would store."""
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(encounters, "_well_formed", lambda ctx, data: None)
            m.setattr(sync, "canonical_bytes", reference_canonical)
        batch = sync.prepare(db, user, entries, device_id="agreement-test")
    out = list(batch.results)
    for ready in batch.ready:
        out[ready.index] = ("ready", ready.id, ready.kind, ready.version, ready.hash, ready.text, ready.clean)
    return out


def decode_both(body: bytes):
    """The body as the view reads it, and as ``json`` reads it: (value or 'refused') twice."""
    try:
        fast = parse_json(body)
    except ApiError:
        fast = "refused"
    try:
        slow = json.loads(body.decode("utf-8"), parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    except (UnicodeDecodeError, ValueError, RecursionError):
        slow = "refused"
    return fast, slow


@pytest.fixture
def worker(fresh_db):
    return make_user(fresh_db)


def test_fast_and_reference_paths_agree_on_thousands_of_mutated_entries(fresh_db, worker, monkeypatch):
    rng = random.Random(20261130)
    seen = {"ready": 0, "rejected": 0}
    entries_checked = 0
    while entries_checked < 3000:
        batch = valid_entries(rng)
        for entry in batch:
            if rng.random() < 0.7:
                mutate(rng, entry)
        fast = answers(fresh_db, worker, copy.deepcopy(batch), fast=True, monkeypatch=monkeypatch)
        slow = answers(fresh_db, worker, copy.deepcopy(batch), fast=False, monkeypatch=monkeypatch)
        for entry, a, b in zip(batch, fast, slow):
            assert a == b, entry
            seen["ready" if isinstance(a, tuple) else a["status"]] += 1
        entries_checked += len(batch)
    # The mutations reach both outcomes, often.
    assert seen["ready"] > 500 and seen["rejected"] > 1000, seen


def test_a_batch_of_every_kind_stays_on_the_fast_path(fresh_db, worker, monkeypatch):
    """An outing or a report in a phone's batch does not send its encounters the long way."""
    calls = []
    real = encounters._check
    monkeypatch.setattr(encounters, "_check", lambda ctx, data: calls.append(data) or real(ctx, data))
    batch = valid_entries(random.Random(1))
    results = answers(fresh_db, worker, batch, fast=True, monkeypatch=monkeypatch)
    assert all(isinstance(r, tuple) for r in results)
    assert calls == []


def test_the_body_reads_the_same_with_msgspec_as_with_json(monkeypatch):
    rng = random.Random(7)
    bodies = [b'{"a":NaN}', b'{"a":Infinity}', b'{"a":1e400}', b'{"a":-1e400}', b'{"a":123456789012345678901234567890}',
              b'{"a":"\\ud800"}', b'{"a":"\\udc00\\ud800x"}', b'{"a":1,"a":2}', b"[" * 5000 + b"]" * 5000,
              b'{"a":1}x', b"\xef\xbb\xbf{}", b'{"a":"\xff"}', b' {"a": 1e-7, "b": -0.0, "c": 5e-324} ', b"",
              b'{"a":"\\u0000"}', b'{"a":01}', b'{"a":.5}', b"{'a':1}", b'{"a":1,}', b"null", b'"text"']
    for _ in range(300):
        batch = valid_entries(rng)
        for entry in batch:
            mutate(rng, entry)
        bodies.append(json.dumps({"device_id": "agreement-test", "entries": batch}).encode())
    for body in bodies:
        fast, slow = decode_both(body)
        assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True), body[:80]


def test_the_canonical_text_is_the_reference_text_whatever_the_numbers(monkeypatch):
    rng = random.Random(11)
    numbers = [0, -0.0, 0.0, 1, -1, 2**63 - 1, 2**64, -(2**63), 10**30, 1e-4, 1e-5, 9.99e-5, -1e-7, 5e-324, 0.1,
               45.18349, 1e15, 1e16, 1e17, 1.7976931348623157e308, 123456789.123, 2.5e-4]
    for _ in range(2000):
        data = {"n": rng.choice(numbers), "m": [rng.choice(numbers), {"z": rng.choice(numbers), "a": rng.choice(HOSTILE[:12])}],
                rng.choice(["é", "z", "A", "\U0001d11e", "\uffff"]): rng.choice(["x", "\n\t\"\\", "\x7f\u2028", 1.5])}
        assert canon.canonical_bytes(data) == canon.canonical(data).encode("utf-8"), data
    for hostile in ({"a": float("nan")}, {"a": [float("inf")]}, {"a": "\ud800"}):
        with pytest.raises(ValueError):
            canon.canonical_bytes(hostile)
