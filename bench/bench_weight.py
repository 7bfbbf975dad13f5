"""Weight of what a phone downloads and keeps to work offline: the precached app, compressed.

    PYTHONPATH=. .venv/bin/python bench/bench_weight.py

Asks a real app (in-process) for /sw.js, then fetches every URL of its precache list and every
app-shell page, as the service worker does at install, and prints each one's size raw and
gzip-compressed (what travels, with the server's GZip middleware), with the totals against the
budget: at most 60 KB for the whole precached app (the service worker's own script included),
at most 30 KB for the JavaScript. What the browser fetches by itself, online, to install the app
(the manifest and its icons) is printed apart: no phone keeps it in the app's cache.
`tests/test_weight.py` runs this measure and fails past either budget.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

from starlette.testclient import TestClient

from outreach.app import create_app
from outreach.settings import Settings

BUDGET_TOTAL = 60 * 1024
BUDGET_JS = 30 * 1024


def _size(client, url: str) -> tuple[str, int, int]:
    body = client.get(url, headers={"Accept-Encoding": "identity"}).content
    assert body, f"{url} answered nothing"
    # Images are already compressed: gzip hardly changes them, they count at their size.
    return url.split("?")[0], len(body), min(len(body), len(gzip.compress(body, 9)))


def _injected(sw: str, name: str):
    return json.loads(sw.split(f"const {name} = ", 1)[1].split(";\n", 1)[0])


def measure(client) -> list[tuple[str, int, int]]:
    """(url, raw bytes, gzip bytes) of each thing the phone keeps offline: /sw.js, its precache list, its pages."""
    sw = client.get("/sw.js").text
    urls = ["/sw.js"] + [url for url, _ in _injected(sw, "PRECACHE")] + _injected(sw, "PAGES")
    assert len(urls) == len(set(urls)), "a URL is listed twice"
    return [_size(client, url) for url in urls]


def install_only(client) -> list[tuple[str, int, int]]:
    """The manifest and its icons: fetched by the browser itself, online, when it installs the app."""
    manifest = client.get("/manifest.webmanifest").json()
    return [_size(client, url) for url in ["/manifest.webmanifest"] + [icon["src"] for icon in manifest["icons"]]]


def totals(rows) -> tuple[int, int]:
    """(all, JavaScript) in compressed bytes."""
    return sum(r[2] for r in rows), sum(r[2] for r in rows if r[0].endswith(".js"))


def _table(rows, width: int) -> None:
    for url, raw, packed in rows:
        print(f"{url.ljust(width)}  {raw:8d}  {packed:8d}")


def main() -> int:
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()), secret_key="weight-" + "k" * 40))
    with TestClient(app, base_url="http://localhost") as client:
        rows, extra = measure(client), install_only(client)
    app.state.store.close()
    width = max(len(r[0]) for r in rows + extra)
    print(f"{'kept offline (precached)'.ljust(width)}  {'raw':>8}  {'gzip':>8}")
    _table(rows, width)
    print(f"\n{'fetched online at install only'.ljust(width)}")
    _table(extra, width)
    total, js = totals(rows)
    print(f"\nprecached app, compressed: {total / 1024:.1f} KB (budget {BUDGET_TOTAL // 1024} KB)")
    print(f"JavaScript, compressed:    {js / 1024:.1f} KB (budget {BUDGET_JS // 1024} KB)")
    return 0 if total <= BUDGET_TOTAL and js <= BUDGET_JS else 1


if __name__ == "__main__":
    sys.exit(main())
