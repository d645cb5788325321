"""kill -9 in the middle of a CSV import, a relabel burst and a training job: the SQLite store stays
sound (integrity_check ok), an import is all or nothing, and the killed job resumes to succeeded."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.config import REPO_ROOT
from core.ingest import import_path
from core.store.db import dispose_all, read_session
from core.store.models import Annotation, Dataset, Run, Sample
from tests.helpers import wait_for, write_affectnet_csv
from tests.reliability import checks
from tests.reliability.workers import seed_store

ROWS = 5000


def _child(*args: str) -> subprocess.Popen:
    """`python -m tests.reliability.workers ARGS` from the repo root, line-buffered stdout."""
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.workers", *args], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    proc.stdout.close()
    proc.stderr.close()


def _wait_line(proc: subprocess.Popen, prefix: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line.strip()
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"child never printed {prefix!r}: {proc.stderr.read()[-3000:]}")


def _wait(pred: Callable[[], object], timeout: float = 120.0, what: str = "") -> object:
    return wait_for(pred, timeout, what, poll_s=0.02)


def _holds_write_lock(db: Path) -> bool:
    """True while another connection holds the SQLite write lock (an open write transaction)."""
    con = sqlite3.connect(db, timeout=0)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.rollback()
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc) or "busy" in str(exc), exc
        return True
    finally:
        con.close()


def _dataset_state(name: str) -> dict[str, int]:
    """Samples, annotations and samples without any annotation of one dataset."""
    with read_session() as s:
        ds = s.scalar(select(Dataset.id).where(Dataset.name == name))
        if ds is None:
            return {"samples": 0, "annotations": 0, "bare": 0}
        ids = select(Sample.id).where(Sample.dataset_id == ds)
        return {"samples": s.scalar(select(func.count()).select_from(ids.subquery())),
                "annotations": s.scalar(select(func.count()).where(Annotation.sample_id.in_(ids))),
                "bare": s.scalar(select(func.count()).where(Sample.dataset_id == ds, ~Sample.id.in_(
                    select(Annotation.sample_id))))}


def _orphan_crops(env: Path) -> int:
    with read_session() as s:
        used = set(s.scalars(select(Sample.crop_path)))
    crops = env / "data" / "crops"
    return sum(1 for p in crops.rglob("*.*") if str(p.relative_to(env / "data")) not in used) if crops.exists() else 0


def _snapshot() -> list[tuple]:
    with read_session() as s:
        return [tuple(r) for r in s.execute(select(Annotation.id, Annotation.sample_id, Annotation.emotion,
                                                   Annotation.supersedes_id).order_by(Annotation.id))]


def _assert_sound(seeded_before: list[tuple]) -> None:
    dispose_all()  # forget pooled connections: read the file the way a fresh start would
    assert checks.integrity() == "ok"
    assert checks.consistency_problems() == []
    assert _snapshot()[:len(seeded_before)] == seeded_before  # earlier labels untouched


@pytest.fixture
def big_csv(env) -> Path:
    seed_store(10)
    return write_affectnet_csv(env / "in", ROWS, subjects=50)


def _import_killed(env: Path, csv: Path, *, when: str) -> dict:
    before = _snapshot()
    if when == "in-transaction":  # deterministic: every row inserted, commit not reached
        proc = _child("import", str(csv), "big")
        assert _wait_line(proc, "written") == f"written {ROWS}"
    else:  # the real importer, killed as soon as it holds the write lock (its one transaction)
        proc = _child("import-plain", str(csv), "big")
        _wait_line(proc, "started")
        _wait(lambda: _holds_write_lock(checks.sqlite_path()) or proc.poll() is not None, what="write lock")
    _kill(proc)
    _assert_sound(before)
    state = _dataset_state("big")
    assert state["samples"] in (0, ROWS), state  # all or nothing
    assert state["bare"] == 0  # no sample without its labels
    if state["samples"]:
        assert state["annotations"] >= ROWS
    state["orphan_crops"] = _orphan_crops(env)  # files written before the kill, referenced by no row
    # the same import afterwards stores every row exactly once
    report = import_path("csv", csv, dataset="big")
    assert report.added + report.existing == ROWS and _dataset_state("big")["samples"] == ROWS
    assert checks.consistency_problems() == []
    return state


@pytest.mark.parametrize("when", ["in-transaction", "holding-write-lock"])
def test_kill_during_a_large_csv_import_leaves_nothing_half_imported(big_csv, env, when):
    state = _import_killed(env, big_csv, when=when)
    print(f"\nkill -9 during import ({when}): {state['samples']} of {ROWS} rows stored, integrity ok, "
          f"{state['orphan_crops']} crop files left unreferenced (reused by the re-import)")


def test_kill_during_a_relabel_burst(env):
    ids = seed_store(30)
    before = _snapshot()
    procs = [_child("relabel", ",".join(str(i) for i in ids[w::3]), f"burst{w}") for w in range(3)]
    printed: list[list[int]] = [[] for _ in procs]
    for proc in procs:
        _wait_line(proc, "ready")
    while min(len(p) for p in printed) < 60:  # all three commit edits, then die mid-burst
        for w, proc in enumerate(procs):
            printed[w].append(int(_wait_line(proc, "")))
    for proc in procs:  # all at once, each most likely inside a write transaction
        os.kill(proc.pid, signal.SIGKILL)
    for w, proc in enumerate(procs):
        printed[w] += [int(x) for x in proc.stdout.read().split()]  # confirmed before it died
        _kill(proc)
    _assert_sound(before)
    chains = checks.human_chains(ids)
    stored = {a.id for chain in chains.values() for a in chain}
    confirmed = {i for p in printed for i in p}
    assert confirmed <= stored  # every edit whose commit returned survived the kill
    assert len(stored) - len(confirmed) <= len(procs)  # at most one committed, not yet printed, each
    for sid, chain in chains.items():  # each sample's history is one line, based on the one before
        assert all(b.supersedes_id == a.id for a, b in zip(chain, chain[1:])), sid
        with read_session() as s:
            assert s.get(Sample, sid).cur_annotation_id == chain[-1].id
    print(f"\nkill -9 during relabel burst: {len(confirmed)} confirmed edits all present, "
          f"{len(stored)} stored, integrity ok")


@pytest.mark.slow
def test_kill_during_training_then_detect_and_resume(env):
    from core.jobs import store as jobs
    from core.jobs.scheduler import Scheduler
    from core.jobs.status import RunStatus
    from tests.training.jobs_common import kill_leftovers
    from tests.training.tiny import import_tiny, tiny_config

    import_tiny(env, 64)
    run_id = jobs.create_run(tiny_config(epochs=5, name="killed"))
    sched = Scheduler(max_running=1, stale_after_s=60.0)

    def until_idle(timeout: float) -> list[int]:
        launched, deadline = [], time.monotonic() + timeout
        while True:
            out = sched.tick()["runs"]
            launched += out["launched"]
            if out["active"] == out["queued"] == 0 or time.monotonic() > deadline:
                return launched
            time.sleep(0.2)

    try:
        assert sched.tick()["runs"]["launched"] == [run_id]

        def after_two_epochs():
            with read_session() as s:
                run = s.get(Run, run_id)
            return run if run.status == "running" and len((run.metrics or {}).get("history", [])) >= 2 else None

        run = _wait(after_two_epochs, timeout=240, what="two finished epochs")
        os.kill(run.pid, signal.SIGKILL)
        assert _wait(lambda: sched.detect_crashed(), timeout=30, what="crash detection") == [run_id]
        with read_session() as s:
            failed = s.get(Run, run_id)
        assert failed.status == RunStatus.FAILED and failed.error.startswith("job process died")
        dispose_all()
        assert checks.integrity() == "ok"
        jobs.resume(run_id)
        with read_session() as s:
            assert s.get(Run, run_id).status == RunStatus.QUEUED
        launched = until_idle(300)
    finally:
        kill_leftovers()
    with read_session() as s:
        done = s.get(Run, run_id)
    epochs = [h["epoch"] for h in done.metrics["history"]]
    log = jobs.tail_log(run_id, 400)
    resumed = [int(line.rsplit("after epoch", 1)[1]) for line in log.splitlines() if "resumed after epoch" in line]
    assert launched == [run_id] and done.status == RunStatus.SUCCEEDED, (done.error, log[-3000:])
    assert epochs == list(range(1, 6)) and resumed and resumed[0] >= 2
    assert (Path(done.checkpoint_path)).is_file()
    print(f"\nkill -9 during training: run {run_id} killed after epoch {len(run.metrics['history'])}, "
          f"detected failed, resumed after epoch {resumed[0]}, finished {done.status} at epoch {epochs[-1]}")


def _runs() -> list[Run]:
    with read_session() as s:
        return list(s.scalars(select(Run)))
