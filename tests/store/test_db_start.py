"""Opening a store already at the newest schema skips Alembic (its import alone costs ~0.5 s of every
server, CLI and job start); a store behind it, or an unclear migration history, still upgrades."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from core.config import REPO_ROOT
from core.store import db


def _store_at(path, version: str | None) -> str:
    con = sqlite3.connect(path)
    if version is not None:
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        con.execute("INSERT INTO alembic_version VALUES (?)", (version,))
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_head_is_read_from_the_migration_files():
    head = db.head_revision()
    names = sorted(p.name for p in (db.MIGRATIONS / "versions").glob("0*.py"))
    assert head is not None and names[-1].startswith(head)


@pytest.mark.parametrize("version, upgraded", [(None, True), ("0001", True), ("head", False)])
def test_upgrade_runs_only_when_the_store_is_behind(tmp_path, monkeypatch, version, upgraded):
    calls: list[str] = []
    monkeypatch.setattr(db, "upgrade", lambda engine: calls.append(str(engine.url)))
    url = _store_at(tmp_path / "s.db", db.head_revision() if version == "head" else version)
    try:
        db.get_engine(url)
    finally:
        db._ENGINES.pop(url, None)
    assert bool(calls) == upgraded


def test_unclear_history_falls_back_to_alembic(tmp_path, monkeypatch):
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a.py").write_text("revision = 'a'\ndown_revision = None\n")
    (versions / "b.py").write_text("revision: str = 'b'\ndown_revision: str | None = 'a'\n")
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path / "migrations")
    assert db.head_revision() == "b"
    (versions / "c.py").write_text("revision = 'c'\ndown_revision = 'a'\n")  # two heads
    assert db.head_revision() is None
    (versions / "c.py").write_text("revision = 'c'\ndown_revision = ('a', 'b')\n")  # a merge
    assert db.head_revision() is None


def test_a_new_process_on_a_current_store_does_not_import_alembic(env):
    db.get_engine()  # migrates the test store to head
    code = "import sys; from core.store.db import get_engine; get_engine(); print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=dict(os.environ),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
