"""Job rows: the one create_run, submit_job, cancel and resume; the job process's own updates.

A training run is a `runs` row; an evaluation (or export) is a `jobs` row. Both move through
RunStatus and carry the same lifecycle columns (pid, proc, heartbeat_at, log_path, error ...),
so every function here takes the table. Each call is one short write transaction.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.auth import Identity, Role, require
from core.config import get_settings
from core.jobs.proc import own_identity, read_tail
from core.jobs.status import ACTIVE, CANCELLABLE, RESUMABLE, RunStatus
from core.limits import check_job_cap
from core.store.datasets import require_dataset
from core.store.db import read_session, write_session
from core.store.models import Job, Run, utcnow
from core.store.snapshots import ensure_snapshot

Table = type[Run] | type[Job]
JOB_KINDS = ("evaluate", "ssl", "analyse")  # what a `jobs` row can ask for (training is a `runs` row)
JOB_ROLES = {"analyse": Role.VIEWER}  # who may submit a kind (others: admins); the job cap applies to all
SSL_STAGES = {"pretrain": None, "classify": "pretrain", "finetune": "classify"}  # stage: previous
S = RunStatus


def create_run(config: Mapping[str, Any] | Any, *, status: RunStatus = S.QUEUED,
               db_url: str | None = None, identity: Identity | None = None) -> int:
    """A new Run row for a training config (a dict or an object with to_dict(), e.g.
    training's TrainConfig) whose dataset must exist; returns its id.

    Queued runs are started by the worker. A process that trains the run itself passes
    STARTING, so the worker never claims it. AccessDenied below the admin role (core.auth);
    LimitExceeded over the caller's cap of queued + running jobs (core.limits).
    """
    who = require(identity, Role.ADMIN, "starting a training run")
    config = dict(config.to_dict() if hasattr(config, "to_dict") else config)
    dataset = config.get("dataset") or ""
    name = config.get("name") or f"{config.get('backbone', 'model')} on {dataset}"
    with write_session(db_url) as s, s.begin():
        ds = require_dataset(s, dataset)
        # the labels it trains on: the named snapshot, else one taken now (the newest if unchanged)
        config["snapshot"] = ensure_snapshot(s, ds.name, config.get("snapshot") or None, created_by=who.name).name
        run = Run(name=name[:200], dataset_id=ds.id, status=S(status).value, config=config,
                  heartbeat_at=utcnow(), submitted_by=check_job_cap(s, who))
        s.add(run)
        s.flush()
        return run.id


def submit_job(kind: str, *, run_id: int | None = None, args: dict[str, Any] | None = None,
               db_url: str | None = None, identity: Identity | None = None,
               session_key: str | None = None) -> int:
    """Queue a background job (kind in JOB_KINDS) for the worker; returns its id. Admins only,
    except the kinds in JOB_ROLES; LimitExceeded over the submitter's cap (core.limits: a visitor
    who is not signed in is counted by session_key)."""
    who = require(identity, JOB_ROLES.get(kind, Role.ADMIN), f"starting a {kind} job")
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r} (known: {', '.join(JOB_KINDS)})")
    with write_session(db_url) as s, s.begin():
        if run_id is not None and s.get(Run, run_id) is None:
            raise LookupError(f"no run with id {run_id}")
        if kind == "ssl":
            _check_ssl_args(s, dict(args or {}))
        job = Job(kind=kind, run_id=run_id, args=dict(args or {}), status=S.QUEUED.value,
                  submitted_by=check_job_cap(s, who, session_key))
        s.add(job)
        s.flush()
        return job.id


def _check_ssl_args(s: Session, args: dict[str, Any]) -> None:
    """An ssl job names a known stage, an existing dataset, epochs >= 1 and, for finetune (optional
    for classify), init_job: a succeeded ssl job of the previous stage whose checkpoint it starts from."""
    stage = args.get("stage")
    if stage not in SSL_STAGES:
        raise ValueError(f"ssl job: unknown stage {stage!r} (known: {', '.join(SSL_STAGES)})")
    require_dataset(s, args.get("dataset") or "")
    if args.get("epochs") is not None and int(args["epochs"]) < 1:
        raise ValueError(f"ssl job: epochs must be >= 1, got {args['epochs']}")
    init_job = args.get("init_job")
    if init_job is None:
        if stage == "finetune":
            raise ValueError("ssl job: finetune needs init_job, a succeeded classify job")
        return
    prev = s.get(Job, int(init_job))
    if (stage == "pretrain" or prev is None or prev.kind != "ssl" or prev.status != S.SUCCEEDED
            or (prev.args or {}).get("stage") != SSL_STAGES[stage]):
        raise ValueError(f"ssl job: init_job {init_job} is not a succeeded {SSL_STAGES[stage]} job")


def cancel(row_id: int, *, table: Table = Run, db_url: str | None = None,
           identity: Identity | None = None) -> RunStatus | None:
    """Stop a run or job: queued -> cancelled at once, starting/running -> cancelling (its
    process stops at its next check; the worker kills it after a grace period). Returns the
    status now (None if there is no such row); a finished row is left as it is. Admins only."""
    require(identity, Role.ADMIN, "cancelling a job")
    return cancel_row(row_id, table=table, db_url=db_url)


def cancel_row(row_id: int, *, table: Table = Run, db_url: str | None = None) -> RunStatus | None:
    """cancel() once the caller's right to it is established."""
    with write_session(db_url) as s, s.begin():
        if set_status(s, table, row_id, (S.QUEUED,), status=S.CANCELLED, finished_at=utcnow()):
            return S.CANCELLED
        if set_status(s, table, row_id, CANCELLABLE, status=S.CANCELLING):
            return S.CANCELLING
        status = s.scalar(select(table.status).where(table.id == row_id))
        return None if status is None else S(status)


def resume(run_id: int, *, db_url: str | None = None, identity: Identity | None = None) -> None:
    """Queue a failed or cancelled run again; it continues from its last checkpoint. Admins only."""
    require(identity, Role.ADMIN, "resuming a training run")
    with write_session(db_url) as s, s.begin():
        if not set_status(s, Run, run_id, RESUMABLE, status=S.QUEUED, pid=None, proc=None,
                          error=None, finished_at=None, stop_reason=None):
            status = s.scalar(select(Run.status).where(Run.id == run_id))
            raise ValueError(f"run {run_id} is {status or 'missing'}; only failed or cancelled "
                             f"runs can be resumed")


def mark_started(table: Table, row_id: int, **values: Any) -> RunStatus:
    """Called by the job process: running (unless a cancel is pending), heartbeat now. A process
    the worker did not spawn (e.g. `train` run directly) records its own identity."""
    with write_session() as s, s.begin():
        row = s.get(table, row_id)
        if row is None:
            raise LookupError(f"no {table.__tablename__[:-1]} with id {row_id}")
        if row.status != S.CANCELLING:
            row.status = S.RUNNING.value
        if row.proc is None:
            ident = own_identity()
            row.proc, row.pid = ident.to_dict(), ident.pid
        row.error, row.finished_at = None, None
        row.started_at = row.started_at or utcnow()
        row.heartbeat_at = utcnow()
        for k, v in values.items():
            setattr(row, k, v)
        return S(row.status)


def finish(table: Table, row_id: int, status: RunStatus, **values: Any) -> None:
    """Called by the job process when it ends: final status, finished_at, anything else."""
    with write_session() as s, s.begin():
        s.execute(update(table).where(table.id == row_id).values(
            status=S(status).value, finished_at=utcnow(), heartbeat_at=utcnow(), **values))


def set_status(s: Session, table: Table, row_id: int, when: Sequence[RunStatus], **values: Any
               ) -> bool:
    """UPDATE the row if its status is still one of `when`; True if it was (a compare-and-set)."""
    if "status" in values:
        values["status"] = S(values["status"]).value
    stmt = (update(table).where(table.id == row_id, table.status.in_([S(w).value for w in when]))
            .values(**values))
    return s.execute(stmt.execution_options(synchronize_session=False)).rowcount == 1


def status_of(row_id: int, *, table: Table = Run, db_url: str | None = None) -> RunStatus | None:
    with read_session(db_url) as s:
        status = s.scalar(select(table.status).where(table.id == row_id))
    return None if status is None else S(status)


def status_counts(table: Table = Run, db_url: str | None = None) -> dict[RunStatus, int]:
    with read_session(db_url) as s:
        rows = s.execute(select(table.status, func.count()).group_by(table.status)).all()
    return {S(status): n for status, n in rows}


def active_count(counts: dict[RunStatus, int]) -> int:
    return sum(counts.get(st, 0) for st in ACTIVE)


def list_jobs(*, run_id: int | None = None, kind: str | None = None, limit: int = 20,
              db_url: str | None = None) -> list[dict[str, Any]]:
    """The newest jobs (of a run, of a kind, or all) as plain dicts (id, kind, args, status,
    result, error ...)."""
    q = select(Job)
    if run_id is not None:
        q = q.where(Job.run_id == run_id)
    if kind is not None:
        q = q.where(Job.kind == kind)
    with read_session(db_url) as s:
        jobs = s.scalars(q.order_by(Job.id.desc()).limit(limit)).all()
        return [{c: getattr(j, c) for c in ("id", "kind", "run_id", "args", "status", "result",
                                            "error", "created_at", "finished_at")} for j in jobs]


def log_file(table: Table, row_id: int) -> Path:
    """Where a job's output goes: always under the data dir, whatever a row says."""
    kind = "runs" if table is Run else "jobs"
    return get_settings().data_dir / kind / f"{kind[:-1]}-{int(row_id)}.log"


def tail_log(row_id: int, lines: int = 50, *, table: Table = Run) -> str:
    """The last lines of the job's log ("" if none), progress bars shown as their latest state."""
    path = log_file(table, row_id)
    return read_tail(path, lines) if path.is_file() else ""


RUN_FIELDS = ("id", "name", "dataset_id", "status", "config", "metrics", "progress", "error",
              "stop_reason", "checkpoint_path", "created_at", "started_at", "finished_at")


def list_runs(*, limit: int = 50, with_metrics: bool = False,
              db_url: str | None = None) -> list[dict[str, Any]]:
    """The newest runs as plain dicts (with_metrics: only runs that recorded metrics)."""
    q = select(Run)
    if with_metrics:
        q = q.where(Run.metrics.is_not(None))
    with read_session(db_url) as s:
        runs = s.scalars(q.order_by(Run.id.desc()).limit(limit)).all()
        return [{c: getattr(r, c) for c in RUN_FIELDS} for r in runs]
