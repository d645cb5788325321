"""SSL stages as `ssl` jobs: queued in the store, run by `python -m core worker` (`run-job`),
each stage starting from the checkpoint of the previous stage's job; bad args are refused."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from core.jobs import store
from core.jobs.status import RunStatus
from core.jobs.worker import wait_for_worker
from core.store.models import Job, Run
from tests.training.jobs_common import get, kill_leftovers, wait_status
from tests.training.test_ssl import openface  # noqa: F401 - the SSL tests' data

S = RunStatus
TINY = {"kinds": ["openface_au", "openface_pose"], "batch_size": 16}


def _run(job_id: int) -> Job:
    job = wait_status(job_id, S.SUCCEEDED, S.FAILED, timeout=240, table=Job)
    assert job.status == S.SUCCEEDED, (job.error, store.tail_log(job_id, 30, table=Job))
    return job


def test_the_worker_runs_pretrain_classify_finetune_jobs(openface, env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    log = open(env / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker", "--poll", "0.5"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_worker(timeout_s=60)
        pre = _run(store.submit_job("ssl", args={"stage": "pretrain", "dataset": openface, "epochs": 2,
                                                 **TINY}))
        assert pre.result["objective"] == "masked_reconstruction" and pre.result["checkpoint"].endswith(".pt")
        cls = _run(store.submit_job("ssl", args={"stage": "classify", "dataset": openface, "epochs": 1,
                                                 "init_job": pre.id, **TINY}))
        assert cls.result["init"] == pre.result["checkpoint"] and cls.result["combined"] is not None
        run = get(cls.result["run_id"])
        assert run.status == S.SUCCEEDED and run.config["stage"] == "classifier"
        assert run.config["epochs"] == 1
        ft = _run(store.submit_job("ssl", args={"stage": "finetune", "dataset": openface, "epochs": 1,
                                                "init_job": cls.id, **TINY}))
        assert ft.result["init"] == cls.result["checkpoint"] and ft.result["subjects"]
        assert all(get(r["run_id"], Run).status == S.SUCCEEDED for r in ft.result["subjects"])
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        kill_leftovers()


def test_ssl_job_args_are_checked_when_queued(openface):  # noqa: F811
    def submit(**args):
        return store.submit_job("ssl", args={"dataset": openface, **args})

    with pytest.raises(ValueError, match="unknown stage 'train'"):
        submit(stage="train")
    with pytest.raises(LookupError):
        store.submit_job("ssl", args={"stage": "pretrain", "dataset": "nope"})
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        submit(stage="pretrain", epochs=0)
    with pytest.raises(ValueError, match="finetune needs init_job"):
        submit(stage="finetune")
    pre = submit(stage="pretrain")  # queued, not succeeded: nothing to start from yet
    with pytest.raises(ValueError, match=f"init_job {pre} is not a succeeded pretrain job"):
        submit(stage="classify", init_job=pre)
    with pytest.raises(ValueError, match="is not a succeeded classify job"):
        submit(stage="finetune", init_job=pre)
    assert store.status_of(pre, table=Job) == S.QUEUED
    assert submit(stage="classify") > pre  # scratch
