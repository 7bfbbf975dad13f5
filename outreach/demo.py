"""Demo data for `outreach serve --demo`: accounts, planned outings, a few weeks of encounters."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from . import users, vocab
from .coordinator import stats
from .field.encounters import tools_json
from .refdata import now_iso
from .settings import REPO_ROOT

# Approximate sector boundaries and populations, for the demo only (the file says so).
DEMO_ZONES = REPO_ROOT / "data" / "zones-grenoble-approx.geojson"
DEMO_ZONES_MAPPING = {"code": "code", "name": "nom", "population": "population",
                      # the file's properties: pop_moins_18, pop_18_29, … pop_65_plus
                      "age_bands": {band: "pop_" + band.replace("under", "moins") for band in vocab.AGE_BANDS}}


def seed_zones(db: Database) -> None:
    """Give the demo sectors their approximate boundaries and populations, unless some zone has one."""
    from .zones import geojson, importer

    if db.execute("select count(*) from zones where boundary is not null").fetchone()[0]:
        return
    m = DEMO_ZONES_MAPPING
    features = geojson.read(DEMO_ZONES.read_bytes(), geojson.Mapping(m["code"], m["name"], m["population"], m["age_bands"]))
    importer.apply(db, importer.preview(db, features), None, via="demo")

DEMO_ACCOUNTS = (
    ("coordination@demo.outreach", "coordinator", "Camille (coordination)", "demo-coordination"),
    ("terrain@demo.outreach", "field", "Sami (terrain)", "demo-terrain-1"),
    ("terrain2@demo.outreach", "field", "Lou (terrain)", "demo-terrain-2"),
    ("admin@demo.outreach", "admin", "Alex (admin)", "demo-administration"),
)


def seed(db: Database, encounters: int = 400) -> list[tuple[str, str, str]]:
    """Create the demo accounts and data once; returns (email, role, password) to print."""
    created = []
    for email, role, name, password in DEMO_ACCOUNTS:
        if users.get_by_email(db, email) is None:
            users.create_user(db, email, password, role, name)
        created.append((email, role, password))
    seed_zones(db)
    if db["outings"].count or db["encounters"].count:
        return created
    rng = random.Random(2026)
    field_ids = [users.get_by_email(db, e)["id"] for e, r, *_ in DEMO_ACCOUNTS if r == "field"]
    coordinator = users.get_by_email(db, DEMO_ACCOUNTS[0][0])["id"]
    _seed_reports(db, coordinator)
    zones = [r["code"] for r in db.query("select code, lat, lon from zones")]
    centres = {r["code"]: (r["lat"], r["lon"]) for r in db.query("select code, lat, lon from zones")}
    tools = [r["code"] for r in db.query("select code from tools")]
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    formats = list(vocab.OUTING_FORMATS)
    # Planned outings for the coming days, with their times and meeting points (they appear on the field phones).
    meeting_points = ["Devant la halle du marché", "Au pied de la tour, côté parking", "Sortie du tram, arrêt principal",
                      "Devant la maison des habitants"]
    for i in range(4):
        oid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        db["outings"].insert(
            {"id": oid, "version": 0, "zone": zones[i % len(zones)], "format": formats[i % len(formats)], "status": "planned",
             "planned_date": (today + timedelta(days=i + 1)).date().isoformat(), "planned_start": "09:30",
             "planned_end": "12:00", "meeting_point": meeting_points[i], "debrief": "", "created_by": coordinator,
             "created_at": now_iso(), "updated_at": now_iso()}
        )
        db["outing_members"].insert_all([{"outing_id": oid, "user_id": u} for u in field_ids])
    # Past outings with encounters; two zones are left out on purpose so coverage shows gaps.
    reached = zones[:-2] if len(zones) > 2 else zones
    place_types = list(vocab.PLACE_TYPES)
    # Real conversations and curiosity come up more often than the other answers.
    outcomes = [*vocab.OUTCOMES, "conversation"]
    interests = [*vocab.INTERESTS, "curious"]
    for day in range(28, 0, -3):
        zone = rng.choice(reached)
        start = today - timedelta(days=day)
        oid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        db["outings"].insert(
            {"id": oid, "version": 1, "hash": "demo", "zone": zone, "format": rng.choice(formats), "status": "ended",
             "started_at": start.isoformat(), "ended_at": (start + timedelta(hours=3)).isoformat(),
             "debrief": "Bon accueil, beaucoup de questions sur le budget participatif.", "created_by": field_ids[0],
             "created_at": start.isoformat(), "updated_at": start.isoformat()}
        )
        db["outing_members"].insert_all([{"outing_id": oid, "user_id": u} for u in field_ids])
        # People told about a tool without a logged conversation: tallied, and counted as reached.
        db["outing_tallies"].insert_all([{"outing_id": oid, "tool": t, "count": rng.randint(2, 12)}
                                         for t in rng.sample(tools, 2)])
        for _ in range(encounters // 10):
            eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            at = start + timedelta(minutes=rng.randrange(180))
            lat, lon = centres[zone]
            row = (
                {"id": eid, "version": 1, "hash": "demo", "user_id": rng.choice(field_ids), "device_id": "demo",
                 "outing_id": oid, "occurred_at": at.isoformat(), "place_type": rng.choice(place_types), "zone": zone,
                 "lat": round(lat + rng.uniform(-.004, .004), 3), "lon": round(lon + rng.uniform(-.004, .004), 3),
                 "accuracy_m": 30, "people_count": rng.choice([1, 1, 1, 2, 3]), "outcome": rng.choice(outcomes),
                 "age_band": rng.choice([None, *vocab.AGE_BANDS]),
                 "interest": rng.choice(interests), "note": "", "created_at": at.isoformat(), "received_at": at.isoformat(),
                 "updated_at": at.isoformat()}
            )
            row["tools"] = tools_json(rng.sample(tools, rng.randint(1, 3)))
            db["encounters"].insert(row)
            stats.add_encounters(db, [eid])  # inserts are counted by their writer (migration m051)
    return created


DEMO_REPORTS = (
    # title, description, category, (lat, lon), address, wants to help, path of states
    ("Banc cassé square Jean-Macé", "Deux lattes du banc près des jeux sont cassées.", "street_furniture",
     (45.1912, 5.7112), "Square Jean-Macé", True, ()),
    ("Jardinière au pied de l'arbre", "Planter des fleurs avec les enfants de l'immeuble.", "planting",
     (45.1768, 5.7081), "Rue Anatole-France", True, ("under_review",)),
    ("Mur à repeindre près de l'école", "Le mur est tagué, une fresque avec les élèves ?", "painting",
     (45.1694, 5.7468), "Rue Léon-Jouhaux", False, ("under_review", "accepted")),
    ("Nettoyage des berges", "Ramassage collectif des déchets un samedi matin.", "cleanliness",
     (45.1935, 5.7290), "Quai de France", True, ("under_review", "accepted", "scheduled")),
    ("Rampe pour poussettes", "Trois marches sans rampe à l'entrée du parc.", "accessibility",
     (45.1603, 5.7302), "Parc Jean-Verlhac", False, ("under_review", "needs_info")),
)


def _seed_reports(db: Database, coordinator: int) -> None:
    """A few worksite reports in different states, so triage, tracking and /worksites show something."""
    from .field import sync
    from .worksites import triage

    when = (datetime.now(timezone.utc) + timedelta(days=10)).date().isoformat()
    for i, (title, text, category, (lat, lon), address, helps, path) in enumerate(DEMO_REPORTS):
        entry = {"id": str(uuid.UUID(int=0xDE30 + i, version=4)), "kind": "report", "version": 1, "created_at": now_iso(),
                 "data": {"title": title, "description": text, "category": category,
                          "location": {"lat": lat, "lon": lon, "accuracy_m": 15}, "address": address, "where_detail": "",
                          "photos": [], "wants_to_help": helps, "reporter": None}}
        result = sync.process(db, None, [entry])["results"][0]
        for state in path:
            extra = {"scheduled_for": when} if state == "scheduled" else {}
            if state == "needs_info":
                extra = {"message": "De quel côté du parc exactement ?"}
            triage.change_status(db, result["id"], state, coordinator, **extra)
