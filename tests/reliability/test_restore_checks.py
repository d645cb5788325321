"""`restore` accepts only backups that pass: integrity, a known schema revision (older ones are
upgraded), no schema objects beyond ours, file paths inside the data dir; and it works over a
garbage or corrupt current store. Generated hostile backups, each refused with the store intact."""
from __future__ import annotations

import os
import shutil
import sqlite3

import numpy as np
import pytest
from sqlalchemy import create_engine, func, select

from core.backup import BackupError, backup, check_file, restore
from core.backup_checks import _script
from core.store.db import dispose_all, read_session
from core.store.models import Annotation
from tests.reliability import checks
from tests.reliability.corpus import REPORT
from tests.reliability.workers import seed_store

TRIGGERS = {
    "trigger rewriting human labels": "CREATE TRIGGER t AFTER INSERT ON annotations WHEN new.source = 'human' "
                                      "BEGIN UPDATE annotations SET emotion = 'Happy' WHERE id = new.id; END",
    "trigger before update": "CREATE TRIGGER keep BEFORE UPDATE ON samples BEGIN SELECT 1; END",
    "trigger on delete": "CREATE TRIGGER d AFTER DELETE ON samples BEGIN SELECT 1; END",
    "view": "CREATE VIEW all_labels AS SELECT * FROM annotations",
    "extra table": "CREATE TABLE payload (x BLOB)",
    "extra index": "CREATE INDEX ix_sneaky ON annotations (emotion)",
    "extra column": "ALTER TABLE samples ADD COLUMN shadow TEXT",
}
REVISIONS = ["ffffffffffff", "9999", "", "0003_future", "head"]
PATHS = [("runs", "log_path", "/etc/passwd"), ("runs", "log_path", "../../../etc/passwd"),
         ("runs", "checkpoint_path", "/root/evil.pt"), ("runs", "log_path", "/proc/self/environ"),
         ("media", "path", "../../etc/shadow"), ("media", "path", "/etc/hosts"),
         ("samples", "crop_path", "/etc/passwd"), ("samples", "crop_path", "crops/../../../x.png")]


def _label_count() -> int:
    with read_session() as s:
        return s.scalar(select(func.count()).select_from(Annotation))


def _hostile_copy(env, name: str, sql: list[str]):
    path = env / f"{name.replace(' ', '_').replace('/', '_')}.db"
    shutil.copyfile(env / "good.db", path)
    con = sqlite3.connect(path)
    for stmt in sql:
        con.execute(stmt)
    con.commit()
    con.close()
    return path


@pytest.fixture
def store(env):
    seed_store(6)
    backup(env / "good.db")
    return env


def _refused(store, path, match: str, cls: str) -> None:
    before = _label_count()
    db = checks.sqlite_path()
    with pytest.raises(BackupError, match=match) as info:
        restore(path, force=True)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert _label_count() == before and not list(db.parent.glob(f"{db.name}.replaced-*"))
    REPORT.record(cls, clear_error=True)


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_backup_with_schema_objects_beyond_ours_is_refused(store, name):
    _refused(store, _hostile_copy(store, name, [TRIGGERS[name]]), "schema objects", "restore: foreign schema")


def test_the_happy_trigger_would_have_rewritten_labels(store):
    """Control: the trigger does what the issue says once it is in a store."""
    path = _hostile_copy(store, "happy", [TRIGGERS["trigger rewriting human labels"]])
    con = sqlite3.connect(path)
    con.execute("INSERT INTO annotations (sample_id, source, emotion, note, created_at) "
                "SELECT min(id), 'human', 'Sad', '', '2026-01-01' FROM samples")
    con.commit()
    assert con.execute("SELECT emotion FROM annotations WHERE source = 'human'").fetchone()[0] == "Happy"
    con.close()


@pytest.mark.parametrize("revision", REVISIONS)
def test_backup_with_an_unknown_schema_revision_is_refused(store, revision):
    value = "9999" if revision == "head" else revision
    _refused(store, _hostile_copy(store, f"rev{revision}", [f"UPDATE alembic_version SET version_num = '{value}'"]),
             "revision", "restore: unknown revision")


@pytest.mark.parametrize("table,col,value", PATHS)
def test_backup_naming_files_outside_the_data_dir_is_refused(store, table, col, value):
    if table == "runs":
        stmts = ["INSERT INTO runs (name, status, created_at) VALUES ('r', 'succeeded', '2026-01-01')",
                 f"UPDATE runs SET {col} = '{value}'"]
    elif table == "media":
        stmts = ["INSERT INTO media (sha256, path, original_name, kind, created_at) VALUES "
                 f"('ab', '{value}', 'x', 'image', '2026-01-01')"]
    else:
        stmts = [f"UPDATE samples SET crop_path = '{value}' WHERE id = (SELECT min(id) FROM samples)"]
    path = _hostile_copy(store, f"{table}{col}{abs(hash(value))}", stmts)
    _refused(store, path, "outside the data dir", "restore: paths outside the data dir")


def test_an_older_schema_revision_is_restored_and_upgraded(store):
    old = store / "old.db"
    shutil.copyfile(store / "good.db", old)
    from alembic import command

    cfg, script = _script()
    engine = create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    engine.dispose()
    con = sqlite3.connect(old)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0002"
    con.close()
    result = restore(old, force=True)
    assert result["schema"] == "upgraded"
    con = sqlite3.connect(checks.sqlite_path())
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == script.get_current_head()
    con.close()
    REPORT.record("restore: older revision upgraded", clear_error=False)


GARBAGE = {
    "random bytes": lambda db: db.write_bytes(np.random.default_rng(1).bytes(50_000)),
    "zeros": lambda db: db.write_bytes(bytes(40_960)),
    "text": lambda db: db.write_text("hello\n" * 100),
    "sqlite header then junk": lambda db: db.write_bytes(b"SQLite format 3\x00" + os.urandom(8000)),
    "truncated store": lambda db: db.write_bytes(db.read_bytes()[:5000]),
    "corrupt pages": lambda db: _corrupt_pages(db),
}


def _corrupt_pages(db) -> None:
    data = bytearray(db.read_bytes())
    for i in range(4096 * 2, len(data), 4096):
        data[i + 100:i + 300] = os.urandom(200)
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_restore_over_a_garbage_or_corrupt_store_works(store, kind):
    db = checks.sqlite_path()
    dispose_all()
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    GARBAGE[kind](db)
    result = restore(store / "good.db", force=True)
    assert result["integrity"] == "ok" and check_file(db)["rows"]["samples"] == 6
    kept = result["replaced_copy"]
    assert kept and os.path.exists(kept)  # the broken file is kept aside, not deleted
    assert checks.integrity() == "ok" and checks.consistency_problems() == []
    REPORT.record("restore over a broken store", clear_error=False)
