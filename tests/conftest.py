"""Fixtures named for what they build. Each test gets its own temporary data directory."""

from __future__ import annotations

import pytest
import sqlite_utils

from outreach import migrations, refdata


@pytest.fixture
def fresh_db(tmp_path) -> sqlite_utils.Database:
    """A migrated database with the default reference data, on its own file."""
    from outreach.db import connect

    db = connect(tmp_path / "test.db")
    migrations.apply(db)
    refdata.seed(db)
    yield db
    db.close()
