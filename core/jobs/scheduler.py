"""The scheduler: start queued runs and jobs, notice crashed or hung ones, enforce cancels.

Job processes are started by command line (`python -m core train --run-id N`, `python -m core
run-job --job-id N`), so this module needs nothing from `training`. Only the worker calls tick();
it holds the single-instance lock, and claims are compare-and-set UPDATEs besides.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from core.config import REPO_ROOT, get_settings
from core.jobs.proc import ProcIdentity, is_alive, reap, spawn_detached, terminate
from core.jobs.status import ACTIVE, RunStatus
from core.jobs.store import Table, log_file, set_status, tail_log
from core.store.db import read_session, write_session
from core.store.models import Job, Run, utcnow

S = RunStatus
TRAIN_ARGV = (sys.executable, "-m", "core", "train", "--run-id", "{id}")
# a run whose config asks for several processes: the same entry point under torchrun (DDP)
DDP_ARGV = (sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
            "{processes}", "-m", "core", "train", "--run-id", "{id}")
JOB_ARGV = (sys.executable, "-m", "core", "run-job", "--job-id", "{id}")


def fill(template: Sequence[str], row_id: int, **more: Any) -> list[str]:
    """The argv of a job: template with "{id}" (also "{run_id}") and any other keys filled in."""
    if not any("{id}" in a or "{run_id}" in a for a in template):
        raise ValueError(f"job command must contain {{id}}: {list(template)}")
    out = [a.replace("{id}", str(row_id)).replace("{run_id}", str(row_id)) for a in template]
    for k, v in more.items():
        out = [a.replace(f"{{{k}}}", str(v)) for a in out]
    return out


@dataclass
class Scheduler:
    """One tick(): crashes, cancels, launches, for training runs and for other jobs."""
    max_running: int = 1  # training runs at once
    max_jobs: int = 1  # evaluate/export jobs at once (besides training)
    grace_s: float = 10.0  # a cancelled process still alive after this is killed
    stale_after_s: float = 180.0  # a run silent this long is hung (training heartbeats)
    startup_s: float = 120.0  # a claimed row whose process never reported
    train_command: Sequence[str] | None = None  # argv template with {id}; None = TRAIN/DDP_ARGV
    job_command: Sequence[str] | None = None  # None = JOB_ARGV
    db_url: str | None = None
    _cancel_seen: dict[tuple[str, int], float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        fill(self.train_command or TRAIN_ARGV, 0)  # fail now on a template without {id}
        fill(self.job_command or JOB_ARGV, 0)

    def tick(self) -> dict[str, Any]:
        """{"runs": summary, "jobs": summary}; a summary lists the ids crashed, cancelled,
        launched and failed_to_start, and counts active and queued."""
        reap()
        return {"runs": self._tick(Run, self.max_running, self.stale_after_s),
                "jobs": self._tick(Job, self.max_jobs, None)}

    def _tick(self, table: Table, limit: int, stale_after_s: float | None) -> dict[str, Any]:
        out: dict[str, Any] = {"crashed": self.detect_crashed(table, stale_after_s),
                               "cancelled": self.enforce_cancel(table),
                               "launched": [], "failed_to_start": []}
        while (row_id := claim_next(table, limit, db_url=self.db_url)) is not None:
            try:
                self.spawn(table, row_id)
                out["launched"].append(row_id)
            except OSError:
                out["failed_to_start"].append(row_id)  # spawn marked it failed
        with read_session(self.db_url) as s:
            counts = dict(s.execute(select(table.status, func.count()).group_by(table.status)).all())
        return {**out, "active": sum(counts.get(st.value, 0) for st in ACTIVE),
                "queued": counts.get(S.QUEUED.value, 0)}

    def detect_crashed(self, table: Table = Run, stale_after_s: float | None = None) -> list[int]:
        """Fail starting/running rows whose process died, never started, or (with
        stale_after_s) stopped heartbeating; a hung process of ours is killed first. A row
        whose process cannot be proven ours (no identity, or its pid now runs something else)
        is never signalled."""
        crashed = []
        for row_id, proc, status, beat in _rows(table, (S.STARTING, S.RUNNING), self.db_url):
            age = (utcnow() - beat).total_seconds() if beat else float("inf")
            what = self._verdict(ProcIdentity.from_dict(proc), S(status), age, stale_after_s)
            if what is None:
                continue
            error = f"job process {what} (last heartbeat {age:.0f}s ago)"
            last = tail_log(row_id, 1, table=table).strip()
            with write_session(self.db_url) as s, s.begin():
                if set_status(s, table, row_id, (S.STARTING, S.RUNNING), status=S.FAILED,
                              finished_at=utcnow(), error=f"{error}; log: {last}" if last else error):
                    crashed.append(row_id)
        return crashed

    def _verdict(self, ident: ProcIdentity | None, status: RunStatus, age: float,
                 stale_after_s: float | None) -> str | None:
        """Why a starting/running row has crashed ("died", "hung, killed" ...), else None. A
        starting row gets at least startup_s; a hung process that is ours is killed here."""
        if stale_after_s is None:
            limit = self.startup_s
        else:
            limit = stale_after_s if status == S.RUNNING else max(stale_after_s, self.startup_s)
        if ident is None:  # spawning (starting), or a row from before identities (never signalled)
            if age < limit:
                return None
            return "never started" if status == S.STARTING else "unknown, not signalled"
        if not is_alive(ident):
            return "died"
        if stale_after_s is not None and age >= limit:
            terminate(ident)
            return "hung, killed"
        return None

    def enforce_cancel(self, table: Table = Run, *, term_s: float = 2.0) -> list[int]:
        """Mark cancelling rows whose process is gone, or still alive after grace_s (then
        killed, if provably ours), cancelled."""
        done, url = [], self.db_url or get_settings().db_url
        rows = _rows(table, (S.CANCELLING,), self.db_url)
        live = {(url, table.__tablename__, r[0]) for r in rows}
        for key in [k for k in self._cancel_seen if k[:2] == (url, table.__tablename__)
                    and k not in live]:
            self._cancel_seen.pop(key, None)  # ended by its process
        for row_id, proc, _, _ in rows:
            key = (url, table.__tablename__, row_id)
            first = self._cancel_seen.setdefault(key, time.monotonic())
            ident = ProcIdentity.from_dict(proc)
            alive = is_alive(ident) if ident is not None else True  # unknown: give it the grace
            if alive and time.monotonic() - first < self.grace_s:
                continue
            killed = ident is not None and alive and terminate(ident, term_s=term_s)
            error = f"killed: still running {self.grace_s:g}s after cancel" if killed else None
            with write_session(self.db_url) as s, s.begin():
                if set_status(s, table, row_id, (S.CANCELLING,), status=S.CANCELLED,
                              finished_at=utcnow(), error=error):
                    done.append(row_id)
            self._cancel_seen.pop(key, None)
        return done

    def command(self, table: Table, row_id: int) -> list[str]:
        if table is Job:
            return fill(self.job_command or JOB_ARGV, row_id)
        if self.train_command is not None:
            return fill(self.train_command, row_id)
        with read_session(self.db_url) as s:
            config = s.scalar(select(Run.config).where(Run.id == row_id)) or {}
        processes = int(config.get("processes") or 1)
        return fill(DDP_ARGV if processes > 1 else TRAIN_ARGV, row_id, processes=processes)

    def spawn(self, table: Table, row_id: int) -> ProcIdentity:
        """Start the process of a claimed row detached, output appended to its log; record its
        identity (pid, create time, command line) on the row."""
        settings = get_settings()
        env = {**os.environ, "AFFECTLAB_DB_URL": self.db_url or settings.db_url,
               "AFFECTLAB_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
        try:
            argv = self.command(table, row_id)
            ident = spawn_detached(argv, log_path=log_file(table, row_id), env=env, cwd=REPO_ROOT)
        except OSError as exc:
            with write_session(self.db_url) as s, s.begin():
                set_status(s, table, row_id, (S.STARTING,), status=S.FAILED, finished_at=utcnow(),
                           error=f"could not start the job process: {exc}")
            raise
        with write_session(self.db_url) as s, s.begin():
            s.execute(update(table).where(table.id == row_id)
                      .values(pid=ident.pid, proc=ident.to_dict()))
        return ident


def claim_next(table: Table, limit: int, *, db_url: str | None = None) -> int | None:
    """Move the oldest queued row to starting if fewer than limit are active; its id.

    One write transaction (SQLite: BEGIN IMMEDIATE, so concurrent callers serialise) and a
    conditional UPDATE ... WHERE status = 'queued', so no row is ever claimed twice.
    """
    with write_session(db_url) as s, s.begin():
        active = s.scalar(select(func.count()).select_from(table)
                          .where(table.status.in_([st.value for st in ACTIVE])))
        if active >= limit:
            return None
        row_id = s.scalar(select(table.id).where(table.status == S.QUEUED.value)
                          .order_by(table.created_at, table.id).limit(1))
        if row_id is None:
            return None
        ok = set_status(s, table, row_id, (S.QUEUED,), status=S.STARTING, pid=None, proc=None,
                        error=None, finished_at=None, heartbeat_at=utcnow(),
                        log_path=str(log_file(table, row_id)))
        return row_id if ok else None


def _rows(table: Table, statuses: Sequence[RunStatus], db_url: str | None) -> list[tuple]:
    """(id, proc, status, heartbeat_at) of the rows in statuses."""
    with read_session(db_url) as s:
        q = (select(table.id, table.proc, table.status, table.heartbeat_at)
             .where(table.status.in_([st.value for st in statuses])))
        return [tuple(r) for r in s.execute(q.order_by(table.id)).all()]
