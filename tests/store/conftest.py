"""Store tests run on SQLite and, when AFFECTLAB_TEST_PG_URL names a server, on PostgreSQL too."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ASSETS

PG_URL = os.environ.get("AFFECTLAB_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh store per test: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    from sqlalchemy import create_engine

    from core.store.db import dispose_all

    monkeypatch.setenv("AFFECTLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    if request.param == "sqlite":
        monkeypatch.setenv("AFFECTLAB_DB_URL", f"sqlite:///{tmp_path / 'test.db'}")
        yield tmp_path
        dispose_all()
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the store tests on PostgreSQL: AFFECTLAB_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL store tests need AFFECTLAB_TEST_PG_URL (scripts/start_postgres.sh)")
    name = f"affectlab_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("AFFECTLAB_DB_URL", PG_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield tmp_path
    finally:
        dispose_all()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
