"""run_job(): the process side of a `jobs` row (evaluate): start, do the work, record the outcome.

Started by the worker as `python -m core run-job --job-id N`; the result (a short summary)
goes on the row, the full evaluation stays where evaluate_run stores it (Run.metrics["eval"]).
"""
from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from core.jobs import store
from core.jobs.status import RunStatus
from core.store.db import read_session, write_session
from core.store.models import Job, utcnow

HEARTBEAT_S = 2.0


def _evaluate(run_id: int | None, args: dict[str, Any]) -> dict[str, Any]:
    from training.eval_run import evaluate_run

    if run_id is None:
        raise ValueError("an evaluate job needs a run")
    r = evaluate_run(run_id, split=args.get("split", "test"), store=bool(args.get("store", True)))
    keys = ("split", "n", "stored", "labelled", "accuracy", "macro_f1", "ccc_va", "combined")
    return {"run_id": run_id, **{k: r.get(k) for k in keys}}


KINDS: dict[str, Callable[[int | None, dict[str, Any]], dict[str, Any]]] = {"evaluate": _evaluate}


def run_job(job_id: int) -> dict[str, Any]:
    """Run job job_id to its end; returns {"job_id", "status", "result" | "error"}."""
    with read_session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise LookupError(f"no job with id {job_id}")
        kind, run_id, args = job.kind, job.run_id, dict(job.args or {})
    if kind not in KINDS:
        store.finish(Job, job_id, RunStatus.FAILED, error=f"unknown job kind {kind!r}")
        raise ValueError(f"job {job_id}: unknown kind {kind!r}")
    if store.mark_started(Job, job_id) == RunStatus.CANCELLING:
        store.finish(Job, job_id, RunStatus.CANCELLED)
        return {"job_id": job_id, "status": RunStatus.CANCELLED}
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(job_id, done), daemon=True)
    beat.start()
    try:
        result = KINDS[kind](run_id, args)
    except Exception as exc:
        store.finish(Job, job_id, RunStatus.FAILED, error=f"{exc}\n{traceback.format_exc()[-3000:]}")
        return {"job_id": job_id, "status": RunStatus.FAILED, "error": str(exc)}
    finally:
        done.set()
        beat.join()
    store.finish(Job, job_id, RunStatus.SUCCEEDED, result=result)
    return {"job_id": job_id, "status": RunStatus.SUCCEEDED, "result": result}


def _heartbeat(job_id: int, done: threading.Event) -> None:
    while not done.wait(HEARTBEAT_S):
        try:
            with write_session() as s, s.begin():
                s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
        except OperationalError:  # a busy store: skip one beat
            pass
