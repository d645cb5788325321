"""Training jobs: a queue of Run rows, each trained by a detached `python -m core train` worker."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.config import REPO_ROOT, get_settings
from core.store.db import read_session, write_session
from core.store.models import Run, utcnow
from training.jobs_proc import kill_group, read_tail, reap_children, spawn_detached, worker_alive
from training.runs import CANCELLED, CANCELLING, FAILED, QUEUED, RUNNING

STARTING = "starting"  # claimed and spawned; the worker moves it to running
ACTIVE = (STARTING, RUNNING, CANCELLING)  # a worker process may be alive
RESUMABLE = (FAILED, CANCELLED)
WORKER = (sys.executable, "-m", "core", "train", "--run-id", "{run_id}")  # {run_id} is filled in
# a run whose TrainConfig asks for several processes: the same entry point under torchrun (DDP)
DDP_WORKER = (sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
              "{processes}", "-m", "core", "train", "--run-id", "{run_id}")

_CANCEL_SEEN: dict[tuple[str, int], float] = {}  # (db url, run id) -> first seen cancelling


def create_run(session: Session, *, name: str, dataset_id: int | None, config: dict[str, Any]) -> Run:
    """A new queued Run row (flushed, not committed)."""
    run = Run(name=name[:200], dataset_id=dataset_id, status=QUEUED, config=config)
    session.add(run)
    session.flush()
    return run


def log_file(run_id: int) -> Path:
    return get_settings().data_dir / "runs" / f"run-{run_id}.log"


def launch(run_id: int, *, command: Sequence[str] | None = None, db_url: str | None = None) -> int:
    """Claim a queued run (-> starting) and spawn its worker detached; returns the worker's pid."""
    worker_argv(command, run_id)  # a bad command fails before the run is claimed
    with write_session(db_url) as s, s.begin():
        if not _claim(s, run_id):
            status = s.scalar(select(Run.status).where(Run.id == run_id))
            raise ValueError(f"run {run_id} is {status or 'missing'}, not queued")
    return _spawn(run_id, command, db_url)


def worker_argv(command: Sequence[str] | None, run_id: int) -> list[str]:
    """The worker's argv: command (default WORKER) with "{run_id}" filled in."""
    template = list(command or WORKER)
    if not any("{run_id}" in a for a in template):
        raise ValueError(f"worker command must contain {{run_id}}: {template}")
    return [a.replace("{run_id}", str(run_id)) for a in template]


def cancel(run_id: int, *, db_url: str | None = None) -> str | None:
    """Stop a run: queued -> cancelled, starting/running -> cancelling; returns the new status."""
    with write_session(db_url) as s, s.begin():
        if _set(s, run_id, (QUEUED,), status=CANCELLED, finished_at=utcnow()):
            return CANCELLED
        if _set(s, run_id, (STARTING, RUNNING), status=CANCELLING):
            return CANCELLING
        return s.scalar(select(Run.status).where(Run.id == run_id))


def resume(run_id: int, *, db_url: str | None = None) -> None:
    """Queue a failed or cancelled run again; its worker continues from its last checkpoint."""
    with write_session(db_url) as s, s.begin():
        if not _set(s, run_id, RESUMABLE, status=QUEUED, pid=None, error=None, finished_at=None):
            status = s.scalar(select(Run.status).where(Run.id == run_id))
            raise ValueError(f"run {run_id} is {status or 'missing'}; only failed or cancelled "
                             f"runs can be resumed")


def enforce_cancel(*, grace_s: float = 10.0, term_s: float = 2.0, db_url: str | None = None) -> list[int]:
    """Mark cancelling runs whose worker is gone, or still alive after grace_s (then killed), cancelled."""
    done, url = [], db_url or get_settings().db_url
    rows = _rows((CANCELLING,), db_url)
    for key in [k for k in _CANCEL_SEEN if k[0] == url and k[1] not in {r[0] for r in rows}]:
        _CANCEL_SEEN.pop(key, None)  # ended by its worker
    for run_id, pid, _, _ in rows:
        first = _CANCEL_SEEN.setdefault((url, run_id), time.monotonic())
        alive = pid is None or worker_alive(pid, run_id)  # no pid yet: being spawned
        if alive and time.monotonic() - first < grace_s:
            continue
        killed = pid is not None and alive
        if killed:
            kill_group(pid, term_s=term_s)
        error = f"killed: still running {grace_s:g}s after cancel" if killed else None
        with write_session(db_url) as s, s.begin():
            if _set(s, run_id, (CANCELLING,), status=CANCELLED, finished_at=utcnow(), error=error):
                done.append(run_id)
        _CANCEL_SEEN.pop((url, run_id), None)
    return done


def detect_crashed(*, stale_after_s: float = 30.0, startup_s: float = 120.0,
                   db_url: str | None = None) -> list[int]:
    """Mark starting/running runs whose worker died or stopped heartbeating (then killed) failed.

    A run still starting (the worker has not reported yet) gets max(stale_after_s, startup_s).
    """
    reap_children()
    crashed = []
    for run_id, pid, status, heartbeat_at in _rows((STARTING, RUNNING), db_url):
        age = (utcnow() - heartbeat_at).total_seconds() if heartbeat_at else float("inf")
        limit = max(stale_after_s, startup_s) if status == STARTING else stale_after_s
        alive = pid is None or worker_alive(pid, run_id)  # no pid yet: being spawned
        if alive and age < limit:
            continue
        what = "never started" if pid is None else "hung, killed" if alive else "died"
        if pid is not None and alive:
            kill_group(pid)
        error = f"worker process {what} (last heartbeat {age:.0f}s ago)"
        last = tail_log(run_id, 1, db_url=db_url).strip()
        with write_session(db_url) as s, s.begin():
            if _set(s, run_id, (STARTING, RUNNING), status=FAILED, finished_at=utcnow(),
                    error=f"{error}; log: {last}" if last else error):
                crashed.append(run_id)
    return crashed


@dataclass
class JobQueue:
    """Runs queued jobs oldest-first, at most max_running at once; call tick() every few seconds."""
    max_running: int = 1
    grace_s: float = 10.0  # a cancelled worker still alive after this is killed
    stale_after_s: float = 30.0  # a worker silent for this long is declared crashed
    command: Sequence[str] | None = None  # worker argv with "{run_id}"; None = WORKER
    db_url: str | None = None

    def __post_init__(self) -> None:
        worker_argv(self.command, 0)  # fail now on a command without {run_id}

    def tick(self) -> dict[str, Any]:
        """Detect crashes, enforce cancels, launch what fits; safe to call from several sessions."""
        out: dict[str, Any] = {
            "crashed": detect_crashed(stale_after_s=self.stale_after_s, db_url=self.db_url),
            "cancelled": enforce_cancel(grace_s=self.grace_s, db_url=self.db_url),
            "launched": [], "failed_to_start": []}
        counts = status_counts(self.db_url)
        while counts.get(QUEUED) and _active(counts) < self.max_running:
            run_id = claim_next(self.max_running, db_url=self.db_url)
            if run_id is None:
                break
            try:
                _spawn(run_id, self.command, self.db_url)
                out["launched"].append(run_id)
            except OSError:
                out["failed_to_start"].append(run_id)  # _spawn marked it failed
            counts = status_counts(self.db_url)
        return {**out, "active": _active(counts), "queued": counts.get(QUEUED, 0)}


def run_queue(queue: JobQueue | None = None, *, poll_s: float = 2.0, until_idle: bool = True,
              timeout_s: float | None = None) -> dict[str, Any]:
    """Tick until nothing is queued or active (or forever); returns every id each key collected."""
    queue = queue or JobQueue()
    total: dict[str, Any] = {"crashed": [], "cancelled": [], "launched": [], "failed_to_start": []}
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        summary = queue.tick()
        for key in total:
            total[key] += summary[key]
        idle = summary["active"] == 0 and summary["queued"] == 0
        if (until_idle and idle) or (deadline is not None and time.monotonic() > deadline):
            return {**total, "active": summary["active"], "queued": summary["queued"]}
        time.sleep(poll_s)


def claim_next(max_running: int, *, db_url: str | None = None) -> int | None:
    """Atomically move the oldest queued run to starting if fewer than max_running are active.

    One write transaction (SQLite: BEGIN IMMEDIATE, so concurrent callers serialise); the
    conditional UPDATE ... WHERE status='queued' also keeps other databases from double-claiming.
    """
    with write_session(db_url) as s, s.begin():
        active = s.scalar(select(func.count()).select_from(Run).where(Run.status.in_(ACTIVE)))
        if active >= max_running:
            return None
        run_id = s.scalar(select(Run.id).where(Run.status == QUEUED)
                          .order_by(Run.created_at, Run.id).limit(1))
        return run_id if run_id is not None and _claim(s, run_id) else None


def status_counts(db_url: str | None = None) -> dict[str, int]:
    with read_session(db_url) as s:
        return dict(s.execute(select(Run.status, func.count()).group_by(Run.status)).all())


def tail_log(run_id: int, lines: int = 50, *, db_url: str | None = None) -> str:
    """The last lines of the run's log ("" if none), progress bars shown as their latest state."""
    with read_session(db_url) as s:
        path = s.scalar(select(Run.log_path).where(Run.id == run_id))
    if not path or not Path(path).is_file():
        return ""
    return read_tail(Path(path), lines)


def _claim(s: Session, run_id: int) -> bool:
    return _set(s, run_id, (QUEUED,), status=STARTING, pid=None, error=None, finished_at=None,
                heartbeat_at=utcnow(), log_path=str(log_file(run_id)))


def _default_command(run_id: int, db_url: str | None) -> Sequence[str]:
    with read_session(db_url) as s:
        config = s.scalar(select(Run.config).where(Run.id == run_id)) or {}
    processes = int(config.get("processes") or 1)
    if processes <= 1:
        return WORKER
    return [a.replace("{processes}", str(processes)) for a in DDP_WORKER]


def _spawn(run_id: int, command: Sequence[str] | None, db_url: str | None) -> int:
    """Start the worker of a claimed run in its own session, output appended to its log."""
    settings = get_settings()
    argv = worker_argv(command or _default_command(run_id, db_url), run_id)
    env = {**os.environ, "AFFECTLAB_DB_URL": db_url or settings.db_url,
           "AFFECTLAB_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
    try:
        pid = spawn_detached(argv, log_path=log_file(run_id), env=env, cwd=REPO_ROOT)
    except OSError as exc:
        with write_session(db_url) as s, s.begin():
            _set(s, run_id, (STARTING,), status=FAILED, finished_at=utcnow(),
                 error=f"could not start worker: {exc}")
        raise
    with write_session(db_url) as s, s.begin():
        s.execute(update(Run).where(Run.id == run_id).values(pid=pid))
    return pid


def _set(s: Session, run_id: int, when: Sequence[str], **values: Any) -> bool:
    """UPDATE the run if its status is still one of `when`; True if it was."""
    stmt = update(Run).where(Run.id == run_id, Run.status.in_(when)).values(**values)
    return s.execute(stmt.execution_options(synchronize_session=False)).rowcount == 1


def _rows(statuses: Sequence[str], db_url: str | None) -> list[tuple]:
    """(id, pid, status, heartbeat_at) of the runs in statuses."""
    with read_session(db_url) as s:
        q = select(Run.id, Run.pid, Run.status, Run.heartbeat_at).where(Run.status.in_(statuses))
        return [tuple(r) for r in s.execute(q.order_by(Run.id)).all()]


def _active(counts: dict[str, int]) -> int:
    return sum(counts.get(st, 0) for st in ACTIVE)
