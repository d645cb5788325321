"""Backup and export never write over the store's own files, the data dir's crops/media, the file
being read, a folder, or (without --force) any existing file; a refused target leaves every
committed edit and every byte of the target as it was. Generated spellings of each target."""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from core.backup import BackupError, backup
from core.export import export_dataset
from core.ingest import import_path
from core.store.db import read_session
from core.store.models import Annotation, Dataset
from core.targets import TargetError
from tests.helpers import write_affectnet_csv
from tests.reliability import checks
from tests.reliability.corpus import REPORT
from tests.reliability.test_backup import Writer
from tests.reliability.workers import seed_store


def _spellings(env, db):
    """Ways to name the store's files: the file, its side files, a symlink, a hard link,
    a path through '..' and './'."""
    out = {f"{db.name}{side}": db.with_name(db.name + side) for side in ("", "-wal", "-shm", "-journal")}
    out["via .."] = env / "sub" / ".." / db.name
    out["via ./"] = env / "." / db.name
    (env / "sub").mkdir(exist_ok=True)
    os.symlink(db, env / "link.db")
    os.symlink(db.with_name(db.name + "-wal"), env / "link-wal")
    os.link(db, env / "hard.db")
    out["symlink"], out["symlink to -wal"], out["hard link"] = env / "link.db", env / "link-wal", env / "hard.db"
    return out


def _fingerprint(paths) -> dict:
    return {p: (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns) for p in paths if p.exists()}


def _annotations() -> int:
    with read_session() as s:
        return s.scalar(select(func.count()).select_from(Annotation))


def _writer(samples: int) -> Writer:
    """A Writer editing `samples` seeded samples, started and past its first edits."""
    writer = Writer(seed_store(samples))
    writer.start()
    writer.wait_for(samples)
    return writer


def test_backup_to_any_spelling_of_the_store_is_refused_while_a_writer_commits(env):
    writer = _writer(20)
    db = checks.sqlite_path()
    try:
        for _name, target in _spellings(env, db).items():
            for force in (False, True):
                with pytest.raises(BackupError, match="label store's own file") as info:
                    backup(target, force=force)
                assert "\n" not in str(info.value)
                REPORT.record("backup/export target is the store", clear_error=True)
        writer.wait_for(len(writer.committed) + 20)
    finally:
        writer.stop.set()
        writer.join(30)
    assert not writer.errors
    assert checks.integrity() == "ok" and checks.consistency_problems() == []
    with read_session() as s:
        stored = set(s.scalars(select(Annotation.id).where(Annotation.source == "human")))
    lost = set(writer.committed) - stored
    REPORT.record("backup/export target is the store", labels_changed=len(lost))
    assert not lost  # every committed edit survived


def test_export_refuses_store_files_crops_folders_and_existing_files(env):
    csv = write_affectnet_csv(env / "in", 6)
    import_path("csv", csv, dataset="d")
    db = checks.sqlite_path()
    (env / "folder.csv").mkdir()
    (env / "other.csv").write_text("keep me\n")
    always = {}  # refused with or without --force: the store's files under a .csv name
    for side in ("", "-wal", "-shm", "-journal"):
        real = db.with_name(db.name + side)
        real.touch(exist_ok=True)
        os.symlink(real, env / f"sym{side}.csv")
        os.link(real, env / f"hard{side}.csv")
        always[f"symlink to {real.name}"] = env / f"sym{side}.csv"
        always[f"hard link to {real.name}"] = env / f"hard{side}.csv"
    always["inside crops/"] = env / "data" / "crops" / "x.csv"
    always["inside media/"] = env / "data" / "media" / "x.parquet"
    always["a folder"] = env / "folder.csv"
    unforced = {"the imported CSV": csv, "another existing file": env / "other.csv"}
    watched = [csv, env / "other.csv", *(db.with_name(db.name + x) for x in ("", "-wal", "-shm"))]
    prints = _fingerprint(watched)
    before = _annotations()
    with read_session() as s:
        ds = s.scalar(select(Dataset.id))
        for force in (False, True):
            for name, target in {**always, **({} if force else unforced)}.items():
                with pytest.raises(TargetError) as info:
                    export_dataset(s, ds, target, force=force)
                assert "\n" not in str(info.value) and target.name in str(info.value), name
                REPORT.record("backup/export target is the store", clear_error=True)
    assert _fingerprint(watched) == prints  # nothing refused touched a byte
    assert _annotations() == before and checks.integrity() == "ok"
    with read_session() as s:
        out = export_dataset(s, ds, env / "other.csv", force=True)  # --force: an ordinary file
    assert out["rows"] == 6 and not list(env.glob(".other.csv.*.tmp"))
    assert (env / "other.csv").read_text().startswith("image_path")


@pytest.mark.parametrize("case", ["folder", "parent is a file", "existing without force", "crops dir"])
def test_backup_refuses_unusable_targets_with_one_line(env, case):
    seed_store(2)
    target = {"folder": env / "adir", "parent is a file": env / "afile" / "b.db",
              "existing without force": env / "exists.db",
              "crops dir": env / "data" / "crops" / "b.db"}[case]
    (env / "adir").mkdir()
    (env / "afile").write_text("x")
    (env / "exists.db").write_text("keep")
    with pytest.raises(BackupError) as info:
        backup(target)
    assert "\n" not in str(info.value) and str(target) in str(info.value)
    assert (env / "exists.db").read_text() == "keep"
    assert not list(env.rglob(".*.tmp"))
    REPORT.record("unusable backup target", clear_error=True)


def test_concurrent_backup_attempts_on_the_wal_never_lose_edits(env):
    """The issue's variant: `backup --to <db>-wal --force` from several threads at once."""
    writer = _writer(10)
    db = checks.sqlite_path()
    errors: list = []

    def attempt():
        for _ in range(5):
            try:
                backup(db.with_name(db.name + "-wal"), force=True)
            except BackupError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    writer.wait_for(len(writer.committed) + 10)
    writer.stop.set()
    writer.join(30)
    assert len(errors) == 20 and not writer.errors
    with read_session() as s:
        stored = set(s.scalars(select(Annotation.id)))
    assert set(writer.committed) <= stored and checks.integrity() == "ok"


def test_export_verb_needs_force_for_an_existing_file(env):
    import subprocess
    import sys

    from core.config import REPO_ROOT

    csv = write_affectnet_csv(env / "in", 3)
    import_path("csv", csv, dataset="d")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cli", "export", "--dataset", "d", *args], cwd=REPO_ROOT,
                              env=dict(os.environ), capture_output=True, text=True, timeout=120)

    before = csv.read_bytes()
    out = run("--to", str(csv))
    assert out.returncode == 1 and "--force" in out.stderr and "Traceback" not in out.stderr
    assert csv.read_bytes() == before  # the very CSV that was imported, untouched
    assert run("--to", str(csv), "--force").returncode == 0
    db = checks.sqlite_path()
    os.symlink(db, env / "db.csv")
    out = run("--to", str(env / "db.csv"), "--force")
    assert out.returncode == 1 and "label store's own file" in out.stderr
