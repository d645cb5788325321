"""The training process's side of its Run row: start, heartbeat/progress, cancel check, metrics, finish.

Rows are created, queued, cancelled and resumed through core.jobs.store (the one create_run and
cancel); this module is what a running `train` writes.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from core.jobs import store
from core.jobs.status import RunStatus
from core.store.db import read_session, write_session
from core.store.models import Run, utcnow
from core.train_config import TrainConfig

log = logging.getLogger(__name__)
create_run = store.create_run  # the one create_run, re-exported for training's callers


def get_run(run_id: int) -> dict[str, Any]:
    """The row as a plain dict (LookupError if missing)."""
    with read_session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise LookupError(f"no run with id {run_id}")
        return {c: getattr(run, c) for c in ("id", "name", "dataset_id", "status", "config",
                                             "metrics", "progress", "checkpoint_path", "error",
                                             "stop_reason")}


def mark_started(run_id: int, config: TrainConfig) -> RunStatus:
    """running with config (a cancelled or cancelling run stays so: the caller stops); returns
    the status."""
    status = store.status_of(run_id)
    if status is None:
        raise LookupError(f"no run with id {run_id}")
    if status in (RunStatus.CANCELLED, RunStatus.CANCELLING):
        return status
    return store.mark_started(Run, run_id, config=config.to_dict(), stop_reason=None)


def heartbeat(run_id: int, progress: dict[str, Any]) -> RunStatus | None:
    """Write progress + heartbeat_at and return the current status (None if the DB was busy)."""
    try:
        with write_session() as s, s.begin():
            s.execute(update(Run).where(Run.id == run_id)
                      .values(progress=progress, heartbeat_at=utcnow()))
            return RunStatus(s.scalar(select(Run.status).where(Run.id == run_id)))
    except OperationalError as exc:  # a busy SQLite must not kill a training job
        log.warning("heartbeat of run %s skipped: %s", run_id, exc)
        return None


def write_metrics(run_id: int, metrics: dict[str, Any], checkpoint_path: str | None) -> None:
    """Store the training history and best; keeps entries others wrote (e.g. "eval")."""
    with write_session() as s, s.begin():
        old = s.scalar(select(Run.metrics).where(Run.id == run_id)) or {}
        s.execute(update(Run).where(Run.id == run_id).values(
            metrics={**old, **metrics}, checkpoint_path=checkpoint_path, heartbeat_at=utcnow()))


def finish(run_id: int, status: RunStatus, *, error: str | None = None,
           progress: dict[str, Any] | None = None, stop_reason: str | None = None) -> None:
    values: dict[str, Any] = {"error": error, "stop_reason": stop_reason}
    if progress is not None:
        values["progress"] = progress
    store.finish(Run, run_id, status, **values)
