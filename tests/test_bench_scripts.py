"""Every bench script still runs to its figures, on a tiny load.

Nothing else exercises them, and they rot silently: three stopped working when the Host check
landed, and two more when exports became POSTs and the report intake was renamed. These runs
check that each script works and prints its figures; the figures themselves are not judged here
(timings belong to the benches, not to the suite). bench_weight.py has its own tests
(test_weight.py), and bench_first_tap.py is run by hand (a throttled browser, five cold loads).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUNS = [
    pytest.param(["bench_sync.py", "--entries", "200", "--size", "50", "--repeat", "1", "--no-burst",
                  "--scenarios", "v7:1,v4:8"], "replays/inserts", id="sync"),
    pytest.param(["bench_sync_steps.py", "--batches", "12"], "µs", id="sync_steps"),
    pytest.param(["bench_zones.py", "--sizes", "300", "--best-of", "1"], "dashboard", id="zones"),
    pytest.param(["bench_dashboard.py", "--sizes", "300"], "CSV export, one month", id="dashboard"),
    pytest.param(["bench_triage.py", "200"], "GET /coordinator/reports/<id>", id="triage"),
    pytest.param(["bench_photos.py", "1"], "ms", id="photos"),
    pytest.param(["bench_browser_sync.py", "--entries", "20"], "reached the server", id="browser_sync",
                 marks=pytest.mark.browser),
]


@pytest.mark.parametrize(("args", "printed"), RUNS)
def test_the_bench_script_runs_and_prints_its_figures(args, printed, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    r = subprocess.run([sys.executable, str(ROOT / "bench" / args[0]), *args[1:]], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert printed in r.stdout, r.stdout[-2000:]
