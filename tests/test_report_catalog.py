"""The worksites catalog never redefines another area's message (catalogs are merged: the last one would win)."""

from pathlib import Path

from babel.messages.pofile import read_po

from outreach.i18n import LOCALE_DIR


def ids(path: Path) -> set:
    with path.open("rb") as f:
        return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(f) if m.id}


def test_worksites_catalog_defines_only_its_own_messages():
    folder = LOCALE_DIR / "fr" / "LC_MESSAGES"
    mine = ids(folder / "worksites.po")
    for other in sorted(folder.glob("*.po")):
        if other.name != "worksites.po":
            assert not mine & ids(other), f"also defined in {other.name}: {sorted(mine & ids(other))[:10]}"
