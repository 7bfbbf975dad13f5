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
