from outreach import migrations
from outreach.db import connect


def test_fresh_database_has_every_table(fresh_db):
    for table in ("users", "devices", "encounters", "outings", "contacts", "reports", "attachments", "audit_log"):
        assert fresh_db[table].exists(), table
    assert fresh_db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_database_made_by_the_first_migration_upgrades(tmp_path):
    db = connect(tmp_path / "old.db")
    first = migrations.migrations._migrations[0].name
    later = [m.name for m in migrations.migrations._migrations[1:]]
    migrations.migrations.apply(db, stop_before=later[0]) if later else migrations.migrations.apply(db)
    assert [m.name for m in migrations.migrations.applied(db)] == [first]
    db["users"].insert({"email": "a@example.org", "display_name": "A", "role": "field", "password_hash": "x"})
    migrations.apply(db)
    assert migrations.migrations.pending(db) == []
    assert db["users"].count == 1
    migrations.apply(db)  # applying twice is harmless


def test_tools_move_into_the_encounter_row_and_the_table_becomes_a_view_that_still_counts(tmp_path):
    """m230: every encounter keeps its tools (now a sorted JSON array in its row), encounter_tools
    reads as before, and the triggers made again still move the counts as a rebuild finds them."""
    import sqlite3

    import pytest

    from outreach.coordinator import stats
    from tests.test_stats import snapshot

    db = connect(tmp_path / "old.db")
    migrations.migrations.apply(db, stop_before="m230_tools_in_the_encounter_row")
    ids = []
    for n, tools in enumerate([["petition", "agora"], ["votation"], []]):
        eid = f"00000000-0000-4000-8000-00000000000{n}"
        db["encounters"].insert({"id": eid, "version": 1, "hash": "h", "occurred_at": "2026-11-10T10:00:00+00:00",
                                 "place_type": "street", "zone": "secteur-1", "people_count": 2,
                                 "outcome": "conversation", "interest": "curious"})
        db["encounter_tools"].insert_all([{"encounter_id": eid, "tool": t} for t in tools])
        ids.append(eid)
    before = sorted(db.execute("select encounter_id, tool from encounter_tools").fetchall())
    migrations.apply(db)
    stats.rebuild(db)  # (the counts as they were: the migration leaves the summary tables alone)
    assert db["encounter_tools"].schema.lower().startswith("create view")
    assert [r[0] for r in db.execute("select tools from encounters order by id")] == [
        '["agora","petition"]', '["votation"]', "[]"]
    assert sorted(db.execute("select encounter_id, tool from encounter_tools").fetchall()) == before
    assert not db.execute("select 1 from sqlite_master where sql like '%from encounter_tools et%'").fetchall()
    # Through the view: a tool attached, one taken off, a row that cannot be; then a correction and a deletion.
    with db.atomic():
        db.execute("insert into encounter_tools (encounter_id, tool) values (?, 'agora')", [ids[2]])
        db.execute("delete from encounter_tools where encounter_id = ? and tool = 'petition'", [ids[0]])
        db["encounters"].update(ids[1], {"zone": "secteur-2", "people_count": 5})
        db.execute("delete from encounters where id = ?", [ids[0]])
    for bad in ([ids[2], "agora"], ["00000000-0000-4000-8000-0000000000ff", "agora"]):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("insert into encounter_tools (encounter_id, tool) values (?, ?)", bad)
    assert db.execute("select tools from encounters where id = ?", [ids[2]]).fetchone()[0] == '["agora"]'
    counted = snapshot(db)
    stats.rebuild(db)
    assert snapshot(db) == counted
    assert dict(((r[0], r[1]), r[2]) for r in db.execute("select zone, tool, sum(people) from agg_tools group by 1, 2")
                if r[2]) == {("secteur-2", "votation"): 5, ("secteur-1", "agora"): 2}
    migrations.apply(db)  # applying twice is harmless
