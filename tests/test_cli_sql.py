"""`outreach sql`: maintenance statements run as the server runs them, all or nothing.

The dashboard's counts are kept by triggers that call local_day(), a function each of the
server's connections gets: a plain sqlite3 shell cannot update an encounter. This command can,
and the counts follow the change exactly (compared with counting everything again).
"""

from __future__ import annotations

import io
import sqlite3

import pytest

from outreach import cli
from outreach.coordinator import stats
from outreach.db import connect
from tests.coord_factories import add_encounter
from tests.test_zones import assert_aggregates_match_a_rebuild


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["sql", "select 1"]) == 0  # creates and migrates the database
    db = connect(tmp_path / "data" / "outreach.db")
    ids = [add_encounter(db, zone="secteur-1", occurred_at=f"2026-11-{10 + i}T23:30:00+00:00", tools=["petition"],
                         people_count=1 + i) for i in range(4)]
    with db.atomic():
        stats.rebuild(db)
    yield db, ids, tmp_path / "data" / "outreach.db"
    db.close()


def test_an_update_a_plain_shell_refuses_works_and_the_counts_follow(data, capsys):
    db, ids, path = data
    plain = sqlite3.connect(path)
    with pytest.raises(sqlite3.OperationalError, match="local_day"):
        plain.execute("update encounters set zone = 'secteur-2' where id = ?", [ids[0]])
    plain.close()
    capsys.readouterr()
    assert cli.main(["sql", f"update encounters set zone = 'secteur-2' where id = '{ids[0]}'"]) == 0
    assert "1 rows changed" in capsys.readouterr().err
    assert db.execute("select zone from encounters where id = ?", [ids[0]]).fetchone()[0] == "secteur-2"
    assert db.execute("select count(*) from encounters where zone = 'secteur-1'").fetchone()[0] == 3
    assert_aggregates_match_a_rebuild(db)
    (detail,) = db.execute("select detail from audit_log where action = 'sql'").fetchone()
    assert '"rows": 1' in detail and '"via": "cli"' in detail


def test_rows_read_are_printed_tab_separated_with_their_header(data, capsys):
    db, ids, path = data
    capsys.readouterr()
    assert cli.main(["sql", "select zone, count(*) as n, null as empty from encounters group by zone"]) == 0
    assert capsys.readouterr().out.splitlines() == ["zone\tn\tempty", "secteur-1\t4\t"]
    assert db.execute("select count(*) from audit_log where action = 'sql'").fetchone()[0] == 0  # a read changes nothing
    assert cli.main(["sql", "create index idx_encounters_note on encounters (note)"]) == 0  # counts no rows
    assert db.execute("select count(*) from audit_log where action = 'sql'").fetchone()[0] == 1


def test_a_script_on_standard_input_is_one_transaction_and_an_error_undoes_it_all(data, capsys, monkeypatch):
    db, ids, path = data
    before = db.execute("select id, zone, note from encounters order by id").fetchall()
    script = (f"update encounters set note = 'a ; in a string' where id = '{ids[1]}';\n"
              "update encounters set zone = 'secteur-3';\n"
              "update no_such_table set x = 1;\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    capsys.readouterr()
    assert cli.main(["sql"]) == 1
    err = capsys.readouterr().err
    assert "error in statement 3" in err and "no such table: no_such_table" in err and "nothing was changed" in err
    assert db.execute("select id, zone, note from encounters order by id").fetchall() == before
    # The same script without its last line: both statements, the ; inside the string kept.
    monkeypatch.setattr("sys.stdin", io.StringIO(script.rsplit("update no_such", 1)[0]))
    assert cli.main(["sql"]) == 0
    assert db.execute("select note from encounters where id = ?", [ids[1]]).fetchone()[0] == "a ; in a string"
    assert {r[0] for r in db.execute("select zone from encounters")} == {"secteur-3"}
    assert_aggregates_match_a_rebuild(db)


@pytest.mark.parametrize("text", ["", "   \n", ";", " ;\n; "])
def test_no_statement_is_an_error(data, capsys, monkeypatch, text):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    capsys.readouterr()
    assert cli.main(["sql"]) == 2
    assert "no SQL statement" in capsys.readouterr().err


def test_a_constraint_is_kept(data, capsys):
    db, ids, path = data
    assert cli.main(["sql", "update encounters set user_id = 999999"]) == 1  # no such user: foreign keys are on
    assert "FOREIGN KEY" in capsys.readouterr().err
    assert db.execute("select count(*) from encounters where user_id is not null").fetchone()[0] == 0


def test_statements_are_split_where_sqlite_says_they_end():
    assert cli.sql_statements("select 1; select ';'; select 3") == ["select 1;", "select ';';", "select 3;"]
    assert cli.sql_statements("select 1;\n\n") == ["select 1;"]
    assert cli.sql_statements("create trigger t after insert on x begin select 1; select 2; end;") == [
        "create trigger t after insert on x begin select 1; select 2; end;"]


@pytest.mark.parametrize("statement", ["begin", "COMMIT", "  -- done\n end", "/* x */ rollback", "savepoint a", "release a"])
def test_transactions_are_left_to_the_command(data, capsys, statement):
    db, ids, path = data
    before = db.execute("select id, zone from encounters order by id").fetchall()
    capsys.readouterr()
    assert cli.main(["sql", f"update encounters set zone = 'secteur-4'; {statement}; update encounters set zone = 'x'"]) == 2
    assert "statement 2" in capsys.readouterr().err
    assert db.execute("select id, zone from encounters order by id").fetchall() == before
