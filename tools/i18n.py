"""Message catalog checks: which msgids the code uses, and which have no French translation.

    python tools/i18n.py missing          # list msgids with no French translation (exit 1 if any)
    python tools/i18n.py conflicts        # list msgids translated two ways in two catalog files
    python tools/i18n.py add AREA         # append them, untranslated, to locale/fr/LC_MESSAGES/AREA.po
    python tools/i18n.py unused           # list catalog msgids no code uses any more (exit 1 if any)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "outreach"
JS_DIR = ROOT / "static" / "js"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
JS_CALL = re.compile(r"""\bt\(\s*(?P<q>["'`])(?P<msg>(?:\\.|(?!(?P=q)).)*)(?P=q)""")


def extract() -> dict[str | tuple, str]:
    """Every msgid used in Python, templates and JavaScript, with where it was first seen."""
    found: dict = {}
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options_map=options, keywords=KEYWORDS
    ):
        key = tuple(message) if isinstance(message, (list, tuple)) else message
        if isinstance(key, tuple):
            key = tuple(k for k in key if k)
            if len(key) == 1:
                key = key[0]
        found.setdefault(key, f"outreach/{filename}:{lineno}")
    for path in sorted(JS_DIR.rglob("*.js")) if JS_DIR.exists() else []:
        for m in JS_CALL.finditer(path.read_text(encoding="utf-8")):
            msg = m.group("msg").encode().decode("unicode_escape") if "\\" in m.group("msg") else m.group("msg")
            found.setdefault(msg, str(path.relative_to(ROOT)))
    return found


def missing(locale: str = "fr") -> dict:
    sys.path.insert(0, str(ROOT))
    from outreach import i18n

    i18n.reload()
    table = i18n.catalog(locale)
    return {k: where for k, where in extract().items() if k not in table}


def conflicts(locale: str = "fr") -> list[str]:
    """msgids translated differently in two catalog files (all files are merged into one table,
    so one of the two would silently win). Different meanings need different msgids."""
    from babel.messages.pofile import read_po

    seen: dict = {}
    out = []
    for path in sorted((PACKAGE / "locale" / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as f:
            for m in read_po(f, locale=locale):
                if not m.id or not m.string:
                    continue
                key = m.id if isinstance(m.id, str) else tuple(m.id)
                if key in seen and seen[key][1] != m.string:
                    out.append(f"{key!r}: {seen[key][0]} says {seen[key][1]!r}, {path.name} says {m.string!r}")
                seen.setdefault(key, (path.name, m.string))
    return out


def unused(locale: str = "fr") -> list[str]:
    """Catalog msgids that no code uses any more: stale translations hide real gaps and mislead
    whoever edits the catalog. (A msgid built at run time would show here: keep msgids literal.)"""
    from babel.messages.pofile import read_po

    used = extract()
    out = []
    for path in sorted((PACKAGE / "locale" / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as f:
            for m in read_po(f, locale=locale):
                key = m.id if isinstance(m.id, str) else tuple(m.id)
                if key and key not in used:
                    out.append(f"{path.name}: {key!r}")
    return out


def add(area: str) -> int:
    todo = missing()
    path = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / f"{area}.po"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: fr\\n"\n'
            '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n',
            encoding="utf-8",
        )
    esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")  # noqa: E731
    with path.open("a", encoding="utf-8") as f:
        for key, where in todo.items():
            if isinstance(key, tuple):
                f.write(f'\n#: {where}\nmsgid "{esc(key[0])}"\nmsgid_plural "{esc(key[1])}"\nmsgstr[0] ""\nmsgstr[1] ""\n')
            else:
                f.write(f'\n#: {where}\nmsgid "{esc(key)}"\nmsgstr ""\n')
    return len(todo)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if cmd == "missing":
        todo = missing()
        for key, where in todo.items():
            print(f"{where}: {key!r}")
        sys.exit(1 if todo else 0)
    elif cmd == "conflicts":
        found = conflicts()
        print("\n".join(found))
        sys.exit(1 if found else 0)
    elif cmd == "unused":
        found = unused()
        print("\n".join(found))
        sys.exit(1 if found else 0)
    elif cmd == "add" and len(sys.argv) == 3:
        print(f"{add(sys.argv[2])} msgids appended; translate them (msgstr) now.")
    else:
        print(__doc__)
        sys.exit(2)
