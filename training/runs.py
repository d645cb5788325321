"""The Run row of a training job: create, start, heartbeat/progress, cancel check, metrics, finish."""
from __future__ import annotations

import logging
import os
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from core.store.datasets import require_dataset
from core.store.db import read_session, write_session
from core.store.models import Run, utcnow
from training.config import TrainConfig

log = logging.getLogger(__name__)

# Run.status values. A UI or `kill`-less stop sets CANCELLING; the loop answers with CANCELLED.
QUEUED, RUNNING, CANCELLING, CANCELLED = "queued", "running", "cancelling", "cancelled"
COMPLETED, FAILED = "succeeded", "failed"  # the issue names the success state "succeeded"
FINAL = (CANCELLED, COMPLETED, FAILED)


def create_run(config: TrainConfig, *, status: str = QUEUED) -> int:
    """A new Run row for config (its dataset must exist); returns its id."""
    with write_session() as s, s.begin():
        ds = require_dataset(s, config.dataset)
        run = Run(name=config.run_name[:200], dataset_id=ds.id, status=status,
                  config=config.to_dict())
        s.add(run)
        s.flush()
        return run.id


def get_run(run_id: int) -> dict[str, Any]:
    """The row as a plain dict (LookupError if missing)."""
    with read_session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise LookupError(f"no run with id {run_id}")
        return {c: getattr(run, c) for c in ("id", "name", "dataset_id", "status", "config",
                                             "metrics", "progress", "checkpoint_path", "error")}


def request_cancel(run_id: int) -> bool:
    """Ask a queued or running job to stop (status -> cancelling); False if it already ended."""
    with write_session() as s, s.begin():
        res = s.execute(update(Run).where(Run.id == run_id, Run.status.in_((QUEUED, RUNNING)))
                        .values(status=CANCELLING))
        return res.rowcount == 1


def mark_started(run_id: int, config: TrainConfig) -> str:
    """running (unless a cancel is already pending), with pid and config; returns the status."""
    with write_session() as s, s.begin():
        run = s.get(Run, run_id)
        if run is None:
            raise LookupError(f"no run with id {run_id}")
        if run.status != CANCELLING:
            run.status = RUNNING
        run.config, run.pid, run.error, run.finished_at = config.to_dict(), os.getpid(), None, None
        run.started_at = run.started_at or utcnow()
        run.heartbeat_at = utcnow()
        return run.status


def heartbeat(run_id: int, progress: dict[str, Any]) -> str | None:
    """Write progress + heartbeat_at and return the current status (None if the DB was busy)."""
    try:
        with write_session() as s, s.begin():
            s.execute(update(Run).where(Run.id == run_id)
                      .values(progress=progress, heartbeat_at=utcnow()))
            return s.scalar(select(Run.status).where(Run.id == run_id))
    except OperationalError as exc:  # a busy SQLite must not kill a training job
        log.warning("heartbeat of run %s skipped: %s", run_id, exc)
        return None


def write_metrics(run_id: int, metrics: dict[str, Any], checkpoint_path: str | None) -> None:
    """Store the training history and best; keeps entries others wrote (e.g. "eval")."""
    with write_session() as s, s.begin():
        old = s.scalar(select(Run.metrics).where(Run.id == run_id)) or {}
        s.execute(update(Run).where(Run.id == run_id).values(
            metrics={**old, **metrics}, checkpoint_path=checkpoint_path, heartbeat_at=utcnow()))


def finish(run_id: int, status: str, *, error: str | None = None,
           progress: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "heartbeat_at": utcnow(),
                              "error": error}
    if progress is not None:
        values["progress"] = progress
    with write_session() as s, s.begin():
        s.execute(update(Run).where(Run.id == run_id).values(**values))
