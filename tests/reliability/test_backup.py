"""`python -m core backup/restore`: a consistent snapshot while a writer keeps editing, restore that
refuses to overwrite without --force and keeps the replaced store, PostgreSQL pointed to pg_dump."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.backup import BackupError, backup, check_file, restore
from core.config import REPO_ROOT
from core.store.db import dispose_all, read_session
from core.store.models import Annotation
from tests.reliability import checks
from tests.reliability.workers import annotate, seed_store


def _cli(*args: str, env_url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"AFFECTLAB_DB_URL": env_url} if env_url else {})}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


class Writer(threading.Thread):
    """Keeps editing 20 samples until stopped; `committed` lists every applied annotation id."""

    def __init__(self, ids: list[int]):
        super().__init__(daemon=True)
        self.ids, self.stop, self.committed, self.errors = ids, threading.Event(), [], []

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            for rec in annotate(0, 1, self.ids, seed=i):
                if rec["outcome"] == "applied":
                    self.committed.append(rec["id"])
                elif rec["outcome"] == "error":
                    self.errors.append(rec["error"])
            i += 1

    def wait_for(self, n: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.committed) < n:
            assert time.monotonic() < deadline and not self.errors, self.errors
            time.sleep(0.01)


def _snapshot_problems(path: Path, ids: list[int], committed: list[int], tmp: Path) -> tuple[int, list[str]]:
    """A copy of the backup checked like the live store: sound, self-consistent, and holding exactly
    the edits committed before some instant (a prefix of the writer's commits)."""
    copy = tmp / f"check-{path.name}"
    shutil.copyfile(path, copy)
    url = f"sqlite:///{copy}"
    problems = checks.consistency_problems(url)
    chains = checks.human_chains(ids, url)
    stored = sorted(a.id for chain in chains.values() for a in chain)
    if stored != committed[:len(stored)]:
        problems.append(f"backup holds {len(stored)} edits that are not the first ones committed")
    for sid, chain in chains.items():
        if any(b.supersedes_id != a.id for a, b in zip(chain, chain[1:])):
            problems.append(f"sample {sid}: history forks in the backup")
    dispose_all()
    return len(stored), problems


@pytest.fixture
def busy_store(env):
    ids = seed_store(20)
    writer = Writer(ids)
    writer.start()
    writer.wait_for(30)
    yield env, ids, writer
    writer.stop.set()
    writer.join(timeout=30)


def test_backup_while_a_writer_is_active_is_a_consistent_snapshot(busy_store, tmp_path):
    env, ids, writer = busy_store
    report = backup(env / "backups" / "api.db")
    out = _cli("backup", "--to", str(env / "backups" / "cli.db"), "--json")  # another process
    writer.wait_for(len(writer.committed) + 30)  # ... and the writer went on after both
    writer.stop.set()
    writer.join(timeout=30)
    assert out.returncode == 0, out.stderr[-2000:]
    cli = json.loads(out.stdout)
    assert cli["ok"] and report["integrity"] == cli["integrity"] == "ok" and not writer.errors
    figures = {}
    for name in ("api.db", "cli.db"):
        path = env / "backups" / name
        assert check_file(path)["integrity"] == "ok"
        assert not Path(f"{path}-wal").exists()  # one self-contained file
        n, problems = _snapshot_problems(path, ids, writer.committed, tmp_path)
        assert problems == [] and 0 < n < len(writer.committed)
        figures[name] = n
    print(f"\nbackup under writes: api {figures['api.db']} / cli {figures['cli.db']} of "
          f"{len(writer.committed)} edits, integrity ok, consistent, {report['seconds']} s")


def test_backup_refuses_to_overwrite_and_pg_is_told_to_use_pg_dump(env):
    seed_store(3)
    target = env / "b.db"
    backup(target)
    with pytest.raises(BackupError, match="--force"):
        backup(target)
    assert backup(target, force=True)["integrity"] == "ok"
    for verb in (("backup", "--to", str(env / "pg.db")), ("restore", "--from", str(target))):
        out = _cli(*verb, env_url="postgresql+psycopg://user:pw@127.0.0.1:1/none")
        assert out.returncode == 1 and "pg_dump" in out.stderr and "Traceback" not in out.stderr
    assert not (env / "pg.db").exists()


def _annotation_count(url: str | None = None) -> int:
    with read_session(url) as s:
        return s.scalar(select(func.count()).select_from(Annotation))


def test_restore_needs_force_keeps_the_replaced_store_and_is_seen_at_once(busy_store):
    env, ids, writer = busy_store
    saved = backup(env / "saved.db")["rows"]["annotations"]
    writer.wait_for(len(writer.committed) + 20)
    writer.stop.set()
    writer.join(timeout=30)
    before = _annotation_count()
    assert before > saved
    db = checks.sqlite_path()
    out = _cli("restore", "--from", str(env / "saved.db"))
    assert out.returncode == 1 and "--force" in out.stderr and _annotation_count() == before
    assert list(db.parent.glob(f"{db.name}.replaced-*")) == []
    out = _cli("restore", "--from", str(env / "saved.db"), "--force", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    kept = Path(result["replaced_copy"])
    assert kept.parent == db.parent and kept.name.startswith(f"{db.name}.replaced-")
    assert check_file(kept)["rows"]["annotations"] == before  # the replaced store, kept beside it
    assert _annotation_count() == saved  # this process's pooled connections see the restore
    assert checks.integrity() == "ok" and checks.consistency_problems() == []


def test_restore_refuses_a_file_that_is_not_a_label_store(env):
    seed_store(3)
    before = _annotation_count()
    junk = env / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    for bad, reason in ((junk, "not a readable SQLite|integrity"), (env / "missing.db", "no backup file")):
        with pytest.raises(BackupError, match=reason):
            restore(bad, force=True)
    assert _annotation_count() == before


def test_restore_into_an_empty_location_needs_no_force(env, tmp_path):
    seed_store(5)
    backup(tmp_path / "b.db")
    fresh = tmp_path / "new" / "labels.db"
    result = restore(tmp_path / "b.db", db_url=f"sqlite:///{fresh}")
    assert result["replaced_copy"] is None and result["rows"]["samples"] == 5
    assert _annotation_count(f"sqlite:///{fresh}") == _annotation_count()
