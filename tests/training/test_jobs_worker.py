"""The worker process: runs queued work with no app open, survives SIGKILL, one per store."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.jobs import store
from core.jobs.proc import ProcIdentity, is_alive
from core.jobs.status import RunStatus
from core.jobs.worker import ensure_worker, run_worker, stop_worker, wait_for_worker, worker_identity
from core.store.db import dispose_all
from core.store.models import Job
from tests.training.jobs_common import FAKE, events, get, kill_leftovers, new_run, wait, wait_status
from tests.training.tiny import import_tiny

S = RunStatus
FAKE_WORKER = ("from core.jobs.worker import run_worker; from core.jobs.scheduler import Scheduler; "
               "import sys, json; run_worker(poll_s=0.1, scheduler=Scheduler(grace_s=1.0, "
               "train_command=json.loads(sys.argv[1])))")


@pytest.fixture
def workers(env):
    """start() -> a worker process on the fake job; every one left is killed afterwards."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(env / f"worker-{len(started)}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", FAKE_WORKER, json.dumps(FAKE)],
                                stdout=log, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()
    stop_worker()
    kill_leftovers()


def test_killing_the_worker_and_starting_another_resumes_scheduling(workers, env):
    first, second = new_run("a", epochs=40, step_s=0.05), new_run("b", epochs=3)
    w1 = workers()
    job = ProcIdentity.from_dict(wait_status(first, S.RUNNING, timeout=30).proc)
    w1.send_signal(signal.SIGKILL)
    w1.wait()
    assert worker_identity() is None and is_alive(job)  # the job outlives its worker
    workers()
    wait_status(second, S.SUCCEEDED, timeout=120)  # the new worker adopted the first, then started b
    a, b = get(first), get(second)
    assert a.status == S.SUCCEEDED and b.started_at >= a.finished_at
    assert [int(e[1]) for e in events(env)] == [first, second]  # each started once


def test_two_workers_started_at_once_never_start_the_same_run(workers, env):
    ids = [new_run(epochs=2) for _ in range(3)]
    pair = [workers(), workers()]
    busy = wait(lambda: [p for p in pair if p.poll() is not None], timeout=30, what="one to exit")
    assert len(busy) == 1 and busy[0].returncode != 0  # the loser found the lock taken
    (alive,) = [p for p in pair if p.poll() is None]
    assert worker_identity().pid == alive.pid
    wait(lambda: all(get(i).status == S.SUCCEEDED for i in ids), timeout=120, what="all three")
    assert sorted(int(e[1]) for e in events(env)) == ids
    assert {e[2] for e in events(env)} == {"1"}  # one job process at a time


def test_a_crashed_job_is_detected_by_the_worker_and_resumed(workers):
    run_id = new_run(epochs=40, step_s=0.03)
    workers()
    run = wait(lambda: (r := get(run_id)).progress and r.progress["epoch"] >= 5 and r, timeout=30)
    os.kill(run.pid, signal.SIGKILL)
    run = wait_status(run_id, S.FAILED, timeout=30)
    assert run.error.startswith("job process died")
    store.resume(run_id)
    run = wait_status(run_id, S.SUCCEEDED, timeout=120)
    assert run.metrics["resumed_from"] >= 5 and run.progress["epoch"] == 40


def test_cancel_of_queued_and_running_runs(workers):
    running, waiting = new_run(epochs=1000, step_s=0.05), new_run(epochs=1)
    workers()
    wait_status(running, S.RUNNING, timeout=30)
    assert store.cancel(waiting) == S.CANCELLED
    assert store.cancel(running) == S.CANCELLING
    run = wait_status(running, S.CANCELLED, timeout=15)
    assert run.error is None and get(waiting).started_at is None
    hung = new_run(epochs=100_000, step_s=0.02, hang=True)  # ignores cancel and SIGTERM
    ident = ProcIdentity.from_dict(wait_status(hung, S.RUNNING, timeout=30).proc)
    store.cancel(hung)
    run = wait_status(hung, S.CANCELLED, timeout=30)
    assert "killed" in run.error and not is_alive(ident)


def test_ensure_worker_starts_one_worker_through_the_cli(env):
    try:
        first = ensure_worker()
        assert first["started"]
        ident = wait_for_worker(timeout_s=60)
        assert ensure_worker() == {"started": False, "pid": ident.pid}
        assert ident.cmdline[-2:] == ["worker", "--if-idle"]
    finally:
        assert stop_worker(timeout_s=10)
    assert worker_identity() is None


@pytest.mark.slow
def test_a_run_queued_with_no_app_is_trained_and_evaluated_by_the_worker(env, monkeypatch):
    """Real training (1 epoch on generated crops) queued by `train --queue` and an evaluation
    job, run by `python -m core worker` (`train --run-id`, `run-job --job-id`), no page open."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    import_tiny(env, 32)
    log = open(env / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker", "--poll", "0.5"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_worker(timeout_s=60)
        queued = subprocess.run(
            [sys.executable, "-m", "core", "train", "--dataset", "tiny", "--init", "scratch",
             "--epochs", "1", "--batch-size", "16", "--scheduler", "none", "--no-augment",
             "--device", "cpu", "--queue", "--json"], capture_output=True, text=True, timeout=120)
        out = json.loads(queued.stdout)
        assert out["ok"] and out["status"] == "queued" and out["worker_pid"] == worker.pid, queued.stderr
        run_id = out["run_id"]
        run = wait_status(run_id, S.SUCCEEDED, S.FAILED, timeout=240)
        assert run.status == S.SUCCEEDED, (run.error, store.tail_log(run_id, 30))
        assert len(run.metrics["history"]) == 1 and run.checkpoint_path
        job_id = store.submit_job("evaluate", run_id=run_id, args={"split": "val"})
        job = wait_status(job_id, S.SUCCEEDED, S.FAILED, timeout=240, table=Job)
        assert job.status == S.SUCCEEDED, (job.error, store.tail_log(job_id, 30, table=Job))
        assert job.result["n"] == 8 and job.result["stored"] == 8  # a quarter of 32 is val
        assert get(run_id).metrics["eval"]["val"]["n"] == 8
        listed = subprocess.run([sys.executable, "-m", "core", "jobs", "--json"], capture_output=True,
                                text=True, timeout=60)
        assert json.loads(listed.stdout)["runs"][0]["status"] == "succeeded"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0  # a clean stop on SIGTERM
        kill_leftovers()


def test_the_start_script_starts_a_worker_beside_the_app(env):
    from core.config import REPO_ROOT

    base = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "AFFECTLAB_PERSIST_DIR": str(env / "nothing")}
    script = str(REPO_ROOT / "scripts" / "start.sh")
    subprocess.run([script, "true"], env=base, check=True, capture_output=True)
    assert worker_identity() is None  # only beside the app (or when asked)
    try:
        out = subprocess.run([script, "true"], env={**base, "AFFECTLAB_START_WORKER": "1"}, check=True,
                             capture_output=True, text=True)
        assert "start: job worker pid" in out.stderr
        assert wait_for_worker(timeout_s=60).cmdline[-2:] == ["worker", "--if-idle"]
    finally:
        assert stop_worker(timeout_s=10)


def test_cancel_and_jobs_verbs(env):
    run_id = new_run(epochs=1)
    cli = [sys.executable, "-m", "core"]
    out = subprocess.run([*cli, "cancel", "--run", str(run_id), "--json"], capture_output=True, text=True,
                         timeout=60)
    assert json.loads(out.stdout) == {"ok": True, "run_id": run_id, "status": "cancelled"}
    missing = subprocess.run([*cli, "cancel", "--run", "99"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no run with id 99" in missing.stderr
    listed = subprocess.run([*cli, "jobs"], capture_output=True, text=True, timeout=60)
    assert listed.stdout.splitlines() == ["worker: not running", f"run {run_id:>4}  cancelled   r"]


def test_a_worker_ends_when_idle_or_when_its_store_is_deleted(env):
    from core.config import get_settings

    new_run(epochs=1)  # creates the store
    store.cancel(1)
    started = time.monotonic()
    out = run_worker(poll_s=0.05, idle_exit_s=0.5)
    # it polled more than once before idling out (a tick can take 0.2 s on a loaded machine)
    assert out["stopped"] == "idle" and out["ticks"] >= 2 and worker_identity() is None
    assert time.monotonic() - started >= 0.5
    (env / "test.db").unlink()
    for extra in ("-wal", "-shm"):
        (env / f"test.db{extra}").unlink(missing_ok=True)
    assert run_worker(poll_s=0.05)["stopped"] == "store gone"
    dispose_all()  # pooled connections still write to the deleted file
    new_run(epochs=1)  # a new store at the same path, but the data dir is recreated too:
    stop = threading.Event()
    ended: list[dict] = []
    t = threading.Thread(target=lambda: ended.append(run_worker(poll_s=0.05, stop=stop)))
    t.start()
    wait(lambda: worker_identity() is not None)
    shutil.rmtree(get_settings().data_dir / "jobs")
    t.join(timeout=10)
    assert ended and ended[0]["stopped"] == "store gone"  # its lock file went with the data dir
    assert get_settings().db_url.endswith("test.db")
