"""Refreshing the planner's statistics after a large import (core.store.db.optimize) while
annotators write: it waits for the write lock like any writer, never fails the committed import
with "database is locked" (found by the load test: a 20,000-row import exited 1 after its commit).
Generated: first ANALYZE or a later PRAGMA optimize x how long another writer holds the lock."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from core.store.db import get_engine, optimize
from tests.reliability import checks
from tests.reliability.corpus import REPORT
from tests.reliability.workers import seed_store


def _hold_write_lock(path, seconds: float, started: threading.Event) -> None:
    """Another writer: takes the write lock, writes, keeps it `seconds`, commits."""
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    con.execute("UPDATE samples SET quality = 0.5 WHERE id = (SELECT min(id) FROM samples)")
    started.set()
    time.sleep(seconds)
    con.execute("COMMIT")
    con.close()


@pytest.mark.parametrize("hold_s", [0.2, 0.6, 1.2])
@pytest.mark.parametrize("stats", ["first ANALYZE", "PRAGMA optimize"])
def test_optimize_waits_for_another_writer(env, hold_s, stats):
    seed_store(50)
    if stats == "PRAGMA optimize":
        optimize()  # sqlite_stat1 exists now
    started = threading.Event()
    writer = threading.Thread(target=_hold_write_lock, args=(checks.sqlite_path(), hold_s, started))
    writer.start()
    started.wait(10)
    t0 = time.perf_counter()
    try:
        optimize(get_engine())  # its read snapshot predates the other writer's commit
    finally:
        writer.join()
    waited = time.perf_counter() - t0
    con = sqlite3.connect(checks.sqlite_path())
    analysed = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0]
    con.close()
    REPORT.record("statistics refresh beside a writer", clear_error=bool(analysed), crash=not analysed)
    assert analysed == 1 and waited >= hold_s * 0.5  # it waited for the lock, then ran
    assert checks.integrity() == "ok"


def test_a_store_busy_past_the_timeout_skips_the_statistics(env, monkeypatch, caplog):
    import core.store.db as db

    seed_store(5)
    monkeypatch.setattr(db, "_sqlite_pragmas", lambda conn, rec: conn.execute("PRAGMA busy_timeout=100"))
    db.dispose_all()
    started = threading.Event()
    writer = threading.Thread(target=_hold_write_lock, args=(checks.sqlite_path(), 1.0, started))
    writer.start()
    started.wait(10)
    try:
        optimize(db.get_engine())  # no exception: a warning, the statistics left for next time
    finally:
        writer.join()
    assert "planner statistics not refreshed" in caplog.text
