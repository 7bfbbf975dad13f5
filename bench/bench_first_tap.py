"""Time from navigation to the first outcome button enabled, offline, on a slow phone.

    PYTHONPATH=. .venv/bin/python bench/bench_first_tap.py

Starts a live server, signs a field worker in, opens /app once so the service worker keeps it,
then goes offline and, with the CPU slowed 4× (Chrome DevTools Protocol
`Emulation.setCPUThrottlingRate`), reloads /app five times: each run measures from navigation
start to the moment the first outcome button is enabled and the app says it is ready. Prints
each run and the median (budget: 1 s). Cold = a new tab's first offline load; warm = reloads.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import find_chromium, make_settings, start_live_server, stop_live_server  # noqa: E402

RUNS = 5
READY = """() => { const b = document.querySelector('.outcome-button');
  return document.body.dataset.ready === '1' && b && !b.disabled; }"""


def main() -> int:
    live = start_live_server(make_settings(Path(tempfile.mkdtemp())))
    user = live.make_user("field")
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="fr-FR")
        page = context.new_page()
        page.goto(live.url + "/login")
        page.get_by_label("E-mail").fill(user["email"])
        page.get_by_label("Mot de passe").fill("secret-pass-123")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        page.goto(live.url + "/app")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_function(READY)
        context.set_offline(True)
        for run in range(RUNS):
            tab = context.new_page()
            cdp = context.new_cdp_session(tab)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            tab.goto(live.url + "/app")
            tab.wait_for_function(READY, polling=10)
            ms = tab.evaluate("() => performance.now()")
            # performance.now() counts from this navigation's start.
            times.append(ms)
            print(f"run {run + 1}: {ms:.0f} ms")
            tab.close()
        browser.close()
    stop_live_server(live)
    median = statistics.median(times)
    print(f"\nnavigation → first outcome button enabled, offline, 4× CPU: median {median:.0f} ms of {RUNS} (budget 1000 ms)")
    return 0 if median <= 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
