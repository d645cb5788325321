"""Shared helpers of the job tests: rows on a throwaway dataset, waiting, the fake job command."""
from __future__ import annotations

import sys
from pathlib import Path

from core.jobs.proc import ProcIdentity, terminate
from core.jobs.store import create_run
from core.store.datasets import get_or_create_dataset
from core.store.db import read_session, write_session
from core.store.models import Job, Run
from tests.helpers import wait_for

FAKE = (sys.executable, str(Path(__file__).with_name("fake_worker.py")), "--run-id", "{id}")


def new_run(name: str = "r", **config) -> int:
    """A queued run of the fake worker (config: epochs, step_s, crash_at, hang, silent)."""
    with write_session() as s, s.begin():
        get_or_create_dataset(s, "jobs")
    return create_run({"dataset": "jobs", "name": name, **config})


def get(run_id: int, table=Run):
    with read_session() as s:
        return s.get(table, run_id)


wait = wait_for


def wait_status(run_id: int, *statuses: str, timeout: float = 15.0, table=Run):
    return wait(lambda: (r := get(run_id, table)).status in statuses and r, timeout,
                f"{table.__tablename__} {run_id} in {statuses}")


def events(env: Path) -> list[list[str]]:
    path = env / "data" / "events.log"
    return [ln.split() for ln in path.read_text().splitlines()] if path.exists() else []


def kill_leftovers() -> None:
    """Stop every job process a test left running (only ones provably ours)."""
    with read_session() as s:
        rows = [*s.query(Run).all(), *s.query(Job).all()]
    for row in rows:
        terminate(ProcIdentity.from_dict(row.proc), term_s=0.2)


def work_until_idle(*, max_running: int = 2, timeout: float = 240.0) -> None:
    """Tick a real Scheduler (as the worker does) until no run is queued or active; leftovers killed."""
    import time

    from core.jobs.scheduler import Scheduler

    sched = Scheduler(max_running=max_running, grace_s=1.0, stale_after_s=300.0)
    try:
        deadline = time.monotonic() + timeout
        while True:
            out = sched.tick()["runs"]
            if out["active"] == out["queued"] == 0:
                return
            assert time.monotonic() < deadline, "runs did not finish"
            time.sleep(0.2)
    finally:
        kill_leftovers()
