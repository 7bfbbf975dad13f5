"""2,000 entries waiting in a real Chromium's outbox reach the server: how long does it take?

    PYTHONPATH=. /tmp/venv/bin/python bench/bench_browser_sync.py [--entries 2000]

A real uvicorn server on loopback, a phone-sized headless Chromium signed in on /app. The page
goes offline, 2,000 encounters are queued in IndexedDB through the outbox module, the page goes
back online, and the clock runs until the outbox has no pending entry. Prints the time and checks
that the server holds exactly those rows. A figure, not a test (target: under 10 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import CHROMIUM_ARGS, PASSWORD, find_chromium, start_live_server, stop_live_server, make_settings  # noqa: E402

QUEUE = """async (n) => {
  const outbox = await import('/static/js/outbox.js');
  const now = new Date().toISOString();
  const tools = ['petition', 'agora', 'votation'];
  for (let i = 0; i < n; i++) {
    await outbox.enqueue({id: outbox.newId(), kind: 'encounter', version: 1, created_at: now,
      data: {occurred_at: now, outing_id: null, place_type: 'market', zone: 'secteur-2', location: null,
             people_count: 1 + (i % 3), outcome: 'conversation', tools: tools.slice(0, i % 4), interest: 'curious',
             audience: null, note: '', follow_up: null}});
  }
  return (await outbox.pendingCount());
}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    live = start_live_server(make_settings(Path(tempfile.mkdtemp()) / "live"))
    user = live.make_user("field")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
            page = context.new_page()
            page.goto(live.url + "/login")
            page.get_by_label("Adresse e-mail").fill(user["email"])
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_load_state()
            page.goto(live.url + "/app")
            page.wait_for_selector("body[data-ready='1']")
            context.set_offline(True)
            start = time.perf_counter()
            waiting = page.evaluate(QUEUE, args.entries)
            queued = time.perf_counter() - start
            print(f"queued {waiting} entries offline in IndexedDB in {queued:.1f} s")
            start = time.perf_counter()
            context.set_offline(False)
            while page.evaluate("async () => (await import('/static/js/outbox.js')).pendingCount()") > 0:
                if time.perf_counter() - start > 120:
                    raise SystemExit("not all sent after 120 s")
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            browser.close()
        rows = live.store.db()["encounters"].count
        print(f"{args.entries} waiting entries reached the server in {elapsed:.2f} s "
              f"({args.entries / elapsed:.0f} entries/s); server rows: {rows} (target: under 10 s)")
    finally:
        stop_live_server(live)


if __name__ == "__main__":
    main()
