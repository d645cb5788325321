"""run_job(): the process side of a `jobs` row (evaluate, ssl, analyse): start, do the work, record the outcome.

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

from core.analyse_job import run_analysis
from core.jobs import store
from core.jobs.status import JobCancelled, RunStatus
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


SSL_EPOCHS = {"pretrain": "pretrain_epochs", "classify": "epochs", "finetune": "finetune_epochs"}


def _ssl(run_id: int | None, args: dict[str, Any]) -> dict[str, Any]:
    """One SSL stage (args: stage, dataset, epochs, init_job, optional kinds/batch_size/seed),
    as `affectlab ssl <stage>` runs it; the result keeps the checkpoint for the next stage."""
    from training.ssl import (
        SSLConfig,
        finetune_subject,
        finetune_subjects,
        pretrain_encoder,
        train_classifier,
    )

    stage, dataset = args["stage"], args["dataset"]
    given: dict[str, Any] = {k: args[k] for k in ("kinds", "seed") if args.get(k) is not None}
    if args.get("epochs"):
        given[SSL_EPOCHS[stage]] = int(args["epochs"])
    if args.get("batch_size"):
        given["pretrain_batch_size" if stage == "pretrain" else "batch_size"] = int(args["batch_size"])
    cfg = SSLConfig(**given)
    init = _ssl_checkpoint(args["init_job"]) if args.get("init_job") is not None else None
    if stage == "pretrain":
        out = pretrain_encoder(dataset, cfg)
        return {"stage": stage, "checkpoint": out["checkpoint"], "objective": out["objective"],
                "samples": out["samples"], "loss": out["history"][-1]}
    if stage == "classify":
        out = train_classifier(dataset, cfg, init=init)
        return {"stage": stage, "run_id": out["run_id"], "checkpoint": out["checkpoint"],
                "init": out["init"], "combined": out["metrics"].get("combined")}
    if init is None:
        raise ValueError("a finetune job needs init_job, a succeeded classify job")
    subjects = finetune_subjects(dataset, cfg)
    if not subjects:
        raise ValueError(f"dataset {dataset!r} has no subjects in the {cfg.finetune_split} split")
    done = [finetune_subject(dataset, s, cfg, init=init) for s in subjects]
    return {"stage": stage, "init": init, "subjects": [
        {"subject": r["subject"], "run_id": r["run_id"], "before": r["before"].get("combined"),
         "combined": r["metrics"].get("combined")} for r in done]}


def _ssl_checkpoint(job_id: int) -> str:
    """The checkpoint a succeeded ssl job left (its result), for the next stage."""
    with read_session() as s:
        job = s.get(Job, int(job_id))
        result = dict(job.result or {}) if job is not None and job.kind == "ssl" else {}
    if not result.get("checkpoint"):
        raise ValueError(f"job {job_id} is not an ssl job with a checkpoint")
    return result["checkpoint"]


KINDS: dict[str, Callable[[int | None, dict[str, Any]], dict[str, Any]]] = {
    "evaluate": _evaluate, "ssl": _ssl}
# kinds that watch their own row (progress, cancel): called with the job id
OWN_ROW_KINDS: dict[str, Callable[[int, dict[str, Any]], dict[str, Any]]] = {"analyse": run_analysis}


def run_job(job_id: int) -> dict[str, Any]:
    """Run job job_id to its end; returns {"job_id", "status", "result" | "error"}."""
    with read_session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise LookupError(f"no job with id {job_id}")
        kind, run_id, args = job.kind, job.run_id, dict(job.args or {})
    if kind not in KINDS and kind not in OWN_ROW_KINDS:
        store.finish(Job, job_id, RunStatus.FAILED, error=f"unknown job kind {kind!r}")
        raise ValueError(f"job {job_id}: unknown kind {kind!r}")
    if store.mark_started(Job, job_id) == RunStatus.CANCELLING:
        store.finish(Job, job_id, RunStatus.CANCELLED)
        return {"job_id": job_id, "status": RunStatus.CANCELLED}
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(job_id, done), daemon=True)
    beat.start()
    try:
        result = OWN_ROW_KINDS[kind](job_id, args) if kind in OWN_ROW_KINDS else KINDS[kind](run_id, args)
    except JobCancelled:
        store.finish(Job, job_id, RunStatus.CANCELLED)
        return {"job_id": job_id, "status": RunStatus.CANCELLED}
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
