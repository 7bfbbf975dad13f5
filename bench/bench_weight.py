"""Weight of what a phone downloads and keeps to work offline: the precached app, compressed.

    PYTHONPATH=. .venv/bin/python bench/bench_weight.py

Asks a real app (in-process) for /sw.js, then fetches every URL of its precache list and every
app-shell page, as the service worker does at install, and prints each one's size raw and
gzip-compressed (what travels, with the server's GZip middleware), with the totals against the
budget: at most 60 KB for the whole precached app, at most 30 KB for the JavaScript.
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


def main() -> int:
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()), secret_key="weight-" + "k" * 40))
    rows = []
    with TestClient(app, base_url="http://localhost") as client:
        sw = client.get("/sw.js").text
        precache = json.loads(sw.split("const PRECACHE = ", 1)[1].split(";\n", 1)[0])
        pages = json.loads(sw.split("const PAGES = ", 1)[1].split(";\n", 1)[0])
        for url in [u for u, _ in precache] + pages + ["/sw.js", "/manifest.webmanifest"]:
            body = client.get(url, headers={"Accept-Encoding": "identity"}).content
            rows.append((url.split("?")[0], len(body), min(len(body), len(gzip.compress(body, 9)))))
    app.state.store.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'file'.ljust(width)}  {'raw':>8}  {'gzip':>8}")
    for url, raw, packed in rows:
        print(f"{url.ljust(width)}  {raw:8d}  {packed:8d}")
    total = sum(r[2] for r in rows)
    js = sum(r[2] for r in rows if r[0].endswith(".js"))
    print(f"\nprecached app, compressed: {total / 1024:.1f} KB (budget {BUDGET_TOTAL // 1024} KB)")
    print(f"JavaScript, compressed:    {js / 1024:.1f} KB (budget {BUDGET_JS // 1024} KB)")
    # Images are already compressed: gzip hardly changes them, they count at their size.
    return 0 if total <= BUDGET_TOTAL and js <= BUDGET_JS else 1


if __name__ == "__main__":
    sys.exit(main())
