"""A server's memory: libraries it does not need stay out of the process.

The budget is 150 MB at the end of a day's ingest. shapely and numpy (some 25 MB) serve zone
boundaries only, and pandas (some 20 MB, a test tool) nothing at all: a server that imports no
zones and places no point must never load them. Checked in a fresh interpreter, since the test
process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def loaded_after(script: str, tmp_path: Path) -> set[str]:
    """The top-level modules a fresh interpreter holds after running ``script``."""
    code = textwrap.dedent(script) + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_a_started_server_that_syncs_encounters_loads_no_geometry_or_dataframe_library(tmp_path):
    loaded = loaded_after(f"""
        from datetime import datetime, timezone
        from pathlib import Path
        from outreach import users
        from outreach.app import create_app
        from outreach.field import sync
        from outreach.settings import Settings

        app = create_app(Settings(data_dir=Path({str(tmp_path / 'data')!r}), secret_key="k" * 40))
        store = app.state.store
        with store.write() as db:
            user = users.create_user(db, "worker@example.org", "secret-pass-123", "field")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        data = dict(occurred_at=now, outing_id=None, place_type="street", zone=None,
                    location=dict(lat=45.18, lon=5.72, accuracy_m=20), people_count=1, outcome="brief",
                    tools=[], interest="none", note="", follow_up=None)
        entry = dict(id="8a3e3f0c-1d2b-4c5d-9e6f-0123456789ab", kind="encounter", version=1, created_at=now, data=data)
        with store.write() as db:
            answer = sync.process(db, user, [entry], device_id="test-device-0001")
        assert answer["results"][0]["status"] == "created", answer
    """, tmp_path)
    assert not loaded & {"shapely", "numpy", "pandas"}


def test_sqlite_utils_works_with_pandas_imported_afterwards(tmp_path):
    loaded = loaded_after("""
        import outreach.db, pandas
        assert pandas.DataFrame({"a": [1]}).shape == (1, 1)
    """, tmp_path)
    assert {"sqlite_utils", "pandas", "numpy"} <= loaded
