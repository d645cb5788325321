"""Job queue against a torch-free fake worker: launch, queue order, cancel, kill, crash, resume."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.store.db import read_session, write_session
from core.store.models import Run
from training import jobs
from training.runs import CANCELLED, CANCELLING, COMPLETED, FAILED, QUEUED, RUNNING

FAKE = (sys.executable, str(Path(__file__).with_name("fake_worker.py")), "--run-id", "{run_id}")


@pytest.fixture
def q(env):
    """A fast queue on the fake worker; kills any worker a test leaves behind."""
    yield jobs.JobQueue(max_running=1, grace_s=1.0, stale_after_s=30.0, command=FAKE)
    for run in _all():
        if run.pid and jobs.worker_alive(run.pid, run.id):
            jobs.kill_group(run.pid, term_s=0.2)
    jobs.reap_children()


def _new(name: str = "r", **config) -> int:
    with write_session() as s, s.begin():
        return jobs.create_run(s, name=name, dataset_id=None, config=config).id


def _get(run_id: int) -> Run:
    with read_session() as s:
        return s.get(Run, run_id)


def _all() -> list[Run]:
    with read_session() as s:
        return list(s.query(Run).order_by(Run.id))


def _wait(pred: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while not (value := pred()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def _wait_status(run_id: int, *statuses: str, timeout: float = 10.0) -> Run:
    return _wait(lambda: (r := _get(run_id)).status in statuses and r, timeout)


def _events(env: Path) -> list[list[str]]:
    path = env / "data" / "events.log"
    return [ln.split() for ln in path.read_text().splitlines()] if path.exists() else []


def test_launch_runs_the_worker_to_completion(q, env):
    run_id = _new(epochs=3)
    assert _get(run_id).status == QUEUED
    pid = jobs.launch(run_id, command=FAKE)
    assert _get(run_id).status in ("starting", RUNNING, COMPLETED)
    run = _wait_status(run_id, COMPLETED)
    assert run.pid == pid and run.started_at and run.finished_at and run.checkpoint_path
    assert run.progress["epoch"] == 3 and run.error is None
    assert Path(run.log_path) == env / "data" / "runs" / f"run-{run_id}.log"
    assert jobs.tail_log(run_id, 2).splitlines() == ["epoch 3/3", f"done {COMPLETED}"]
    with pytest.raises(ValueError, match="not queued"):
        jobs.launch(run_id, command=FAKE)


def test_queue_runs_one_at_a_time_oldest_first(q, env):
    first, second = _new("a", epochs=4), _new("b", epochs=2)
    out = jobs.run_queue(q, poll_s=0.05, timeout_s=30)
    assert out["launched"] == [first, second] and out["active"] == out["queued"] == 0
    a, b = _get(first), _get(second)
    assert a.status == b.status == COMPLETED and b.started_at >= a.finished_at
    assert [e[:2] for e in _events(env)] == [["start", str(first)], ["start", str(second)]]
    assert {e[2] for e in _events(env)} == {"1"}  # never two workers alive at once


def test_cancel_running_and_queued(q):
    running, waiting = _new(epochs=500), _new(epochs=1)
    assert q.tick()["launched"] == [running]
    _wait_status(running, RUNNING)
    assert jobs.cancel(waiting) == CANCELLED  # never launched
    t0 = time.monotonic()
    assert jobs.cancel(running) == CANCELLING
    run = _wait_status(running, CANCELLED, timeout=3.0)
    assert time.monotonic() - t0 < 3.0 and run.error is None and run.finished_at
    _wait(lambda: not jobs.worker_alive(run.pid, running))
    assert jobs.cancel(running) == CANCELLED  # no-op once ended
    assert q.tick()["launched"] == []


def test_hung_worker_is_killed_after_the_grace_period(q):
    run_id = _new(epochs=100_000, step_s=0.02, hang=True)
    pid = jobs.launch(run_id, command=FAKE)
    _wait_status(run_id, RUNNING)
    jobs.cancel(run_id)
    t0 = time.monotonic()
    assert jobs.enforce_cancel(grace_s=1.0, term_s=0.3) == []  # within the grace period
    time.sleep(0.5)
    assert _get(run_id).status == CANCELLING and jobs.worker_alive(pid, run_id)
    _wait(lambda: jobs.enforce_cancel(grace_s=1.0, term_s=0.3) == [run_id], timeout=5.0)
    assert 1.0 <= time.monotonic() - t0 < 5.0  # SIGTERM ignored, so SIGKILL after term_s
    run = _get(run_id)
    assert run.status == CANCELLED and "killed" in run.error
    assert not jobs.worker_alive(pid, run_id)


def test_killed_worker_is_detected_and_resumed_from_its_checkpoint(q):
    run_id = _new(epochs=40, step_s=0.03)
    q.tick()
    run = _wait(lambda: (r := _get(run_id)).progress and r.progress["epoch"] >= 5 and r)
    os.kill(run.pid, signal.SIGKILL)
    assert _wait(lambda: jobs.detect_crashed()) == [run_id]
    run = _get(run_id)
    assert run.status == FAILED and run.error.startswith("worker process died (last heartbeat")
    with pytest.raises(ValueError, match="only failed or cancelled"):
        jobs.resume(run_id + 1)
    jobs.resume(run_id)
    assert _get(run_id).status == QUEUED
    out = jobs.run_queue(q, poll_s=0.05, timeout_s=30)
    run = _get(run_id)
    assert out["launched"] == [run_id] and run.status == COMPLETED and run.progress["epoch"] == 40
    k = run.metrics["resumed_from"]
    assert k >= 5 and f"resumed from step {k}" in jobs.tail_log(run_id, 100)


def test_silent_worker_is_declared_hung_and_killed(q):
    run_id = _new(epochs=100_000, step_s=0.02, silent=True)
    pid = jobs.launch(run_id, command=FAKE)
    _wait_status(run_id, RUNNING)
    assert jobs.detect_crashed(stale_after_s=5.0) == []
    run = _wait(lambda: jobs.detect_crashed(stale_after_s=0.5) == [run_id] and _get(run_id))
    assert run.status == FAILED and run.error.startswith("worker process hung, killed")
    assert not jobs.worker_alive(pid, run_id)


def test_worker_error_is_kept_and_resume_needs_an_ended_run(q):
    run_id = _new(epochs=3, crash_at=2)
    jobs.launch(run_id, command=FAKE)
    run = _wait_status(run_id, FAILED)
    assert "boom at epoch 2" in run.error
    _wait(lambda: not jobs.worker_alive(run.pid, run_id))
    assert jobs.detect_crashed() == [] and "boom" in _get(run_id).error
    other = _new(epochs=1)
    with pytest.raises(ValueError, match="is queued"):
        jobs.resume(other)


@pytest.mark.parametrize("queued,max_running", [(1, 4), (3, 1)])
def test_concurrent_ticks_launch_each_run_once(q, env, queued, max_running):
    ids = [_new(epochs=2) for _ in range(queued)]
    queue = jobs.JobQueue(max_running=max_running, command=FAKE)
    barrier, results = threading.Barrier(4), []

    def tick() -> None:
        barrier.wait()
        results.append(queue.tick())

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    launched = [i for r in results for i in r["launched"]]
    assert sorted(launched) == ids[:1]
    jobs.run_queue(queue, poll_s=0.05, timeout_s=30)
    assert [_get(i).status for i in ids] == [COMPLETED] * queued
    assert sorted(int(e[1]) for e in _events(env)) == ids  # each worker started exactly once


def test_worker_alive_sees_zombies_and_reused_pids(env):
    done = subprocess.Popen([sys.executable, "-c", "pass"])  # our child, exited, not reaped
    time.sleep(0.3)
    assert not jobs.worker_alive(done.pid)
    # sh leaves a zombie grandchild it never reaps: not our child, so /proc must tell
    sh = subprocess.Popen(["sh", "-c", "sleep 0 & echo $!; exec sleep 5"], stdout=subprocess.PIPE)
    zombie = int(sh.stdout.readline())
    time.sleep(0.3)
    try:
        assert not jobs.worker_alive(zombie)
        assert jobs.worker_alive(sh.pid) and not jobs.worker_alive(sh.pid, run_id=12345)
    finally:
        sh.kill()
        sh.wait()
        sh.stdout.close()
    done.wait()


def test_bad_command_is_rejected_before_claiming(q):
    run_id = _new()
    with pytest.raises(ValueError, match="run_id"):
        jobs.launch(run_id, command=[sys.executable, "-c", "pass"])
    assert _get(run_id).status == QUEUED
    queue = jobs.JobQueue(command=["/nonexistent/worker", "{run_id}"])
    assert queue.tick()["failed_to_start"] == [run_id]
    assert "could not start worker" in _get(run_id).error
