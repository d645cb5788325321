"""Scheduler against a torch-free fake job: launch, queue order, cancel, kill, crash, resume, pids."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from core.jobs import store
from core.jobs.proc import ProcIdentity, is_alive, same_command, spawn_detached
from core.jobs.scheduler import Scheduler, claim_next
from core.jobs.status import RunStatus
from core.store.db import write_session
from core.store.models import Run, utcnow
from tests.training.jobs_common import FAKE, events, get, kill_leftovers, new_run, wait, wait_status

S = RunStatus


@pytest.fixture
def sched(env):
    """A fast scheduler on the fake worker; stops any job process a test leaves behind."""
    yield Scheduler(max_running=1, grace_s=1.0, stale_after_s=30.0, train_command=FAKE)
    kill_leftovers()


def run_until_idle(sched: Scheduler, timeout: float = 30.0) -> list[int]:
    """Tick until no run is queued or active; the ids launched."""
    launched, deadline = [], time.monotonic() + timeout
    while True:
        out = sched.tick()["runs"]
        launched += out["launched"]
        if out["active"] == out["queued"] == 0:
            return launched
        assert time.monotonic() < deadline, "queue did not drain"
        time.sleep(0.05)


def test_a_queued_run_is_launched_and_runs_to_completion(sched, env):
    run_id = new_run(epochs=3)
    assert get(run_id).status == S.QUEUED
    assert sched.tick()["runs"]["launched"] == [run_id]
    run = get(run_id)
    assert run.status in (S.STARTING, S.RUNNING, S.SUCCEEDED)
    ident = ProcIdentity.from_dict(run.proc)
    assert ident.pid == run.pid and ident.create_time > 0 and ident.cmdline[-2:] == ["--run-id", str(run_id)]
    run = wait_status(run_id, S.SUCCEEDED)
    assert run.started_at and run.finished_at and run.checkpoint_path and run.error is None
    assert run.progress["epoch"] == 3
    assert Path(run.log_path) == env / "data" / "runs" / f"run-{run_id}.log"
    assert store.tail_log(run_id, 2).splitlines() == ["epoch 3/3", f"done {S.SUCCEEDED}"]
    assert claim_next(Run, 1) is None  # nothing queued


def test_queue_runs_one_at_a_time_oldest_first(sched, env):
    first, second = new_run("a", epochs=4), new_run("b", epochs=2)
    assert run_until_idle(sched) == [first, second]
    a, b = get(first), get(second)
    assert a.status == b.status == S.SUCCEEDED and b.started_at >= a.finished_at
    assert [e[:2] for e in events(env)] == [["start", str(first)], ["start", str(second)]]
    assert {e[2] for e in events(env)} == {"1"}  # never two job processes alive at once


def test_cancel_running_and_queued(sched):
    running, waiting = new_run(epochs=500), new_run(epochs=1)
    assert sched.tick()["runs"]["launched"] == [running]
    wait_status(running, S.RUNNING)
    assert store.cancel(waiting) == S.CANCELLED  # never launched
    t0 = time.monotonic()
    assert store.cancel(running) == S.CANCELLING
    run = wait_status(running, S.CANCELLED, timeout=5.0)
    assert time.monotonic() - t0 < 5.0 and run.error is None and run.finished_at
    wait(lambda: not is_alive(ProcIdentity.from_dict(run.proc)))
    assert store.cancel(running) == S.CANCELLED  # no-op once ended
    assert store.cancel(10_000) is None
    assert sched.tick()["runs"]["launched"] == []


def test_hung_job_is_killed_after_the_grace_period(sched):
    run_id = new_run(epochs=100_000, step_s=0.02, hang=True)
    sched.tick()
    run = wait_status(run_id, S.RUNNING)
    ident = ProcIdentity.from_dict(run.proc)
    store.cancel(run_id)
    t0 = time.monotonic()
    assert sched.enforce_cancel(term_s=0.3) == []  # within the grace period
    time.sleep(0.5)
    assert get(run_id).status == S.CANCELLING and is_alive(ident)
    wait(lambda: sched.enforce_cancel(term_s=0.3) == [run_id], timeout=6.0)
    assert 1.0 <= time.monotonic() - t0 < 6.0  # SIGTERM ignored, so SIGKILL after term_s
    run = get(run_id)
    assert run.status == S.CANCELLED and "killed" in run.error and not is_alive(ident)


def test_killed_job_is_detected_and_resumed_from_its_checkpoint(sched):
    run_id = new_run(epochs=40, step_s=0.03)
    sched.tick()
    run = wait(lambda: (r := get(run_id)).progress and r.progress["epoch"] >= 5 and r)
    os.kill(run.pid, signal.SIGKILL)
    assert wait(lambda: sched.detect_crashed()) == [run_id]
    run = get(run_id)
    assert run.status == S.FAILED and run.error.startswith("job process died (last heartbeat")
    with pytest.raises(ValueError, match="only failed or cancelled"):
        store.resume(run_id + 1)
    store.resume(run_id)
    run = get(run_id)
    assert run.status == S.QUEUED and run.proc is None and run.error is None
    assert run_until_idle(sched) == [run_id]
    run = get(run_id)
    assert run.status == S.SUCCEEDED and run.progress["epoch"] == 40
    k = run.metrics["resumed_from"]
    assert k >= 5 and f"resumed from step {k}" in store.tail_log(run_id, 100)


def test_silent_job_is_declared_hung_and_killed(sched):
    run_id = new_run(epochs=100_000, step_s=0.02, silent=True)
    sched.tick()
    ident = ProcIdentity.from_dict(wait_status(run_id, S.RUNNING).proc)
    assert sched.detect_crashed(stale_after_s=5.0) == []
    run = wait(lambda: sched.detect_crashed(stale_after_s=0.5) == [run_id] and get(run_id))
    assert run.status == S.FAILED and run.error.startswith("job process hung, killed")
    assert not is_alive(ident)


def test_job_error_is_kept_and_resume_needs_an_ended_run(sched):
    run_id = new_run(epochs=3, crash_at=2)
    sched.tick()
    run = wait_status(run_id, S.FAILED)
    assert "boom at epoch 2" in run.error
    wait(lambda: not is_alive(ProcIdentity.from_dict(run.proc)))
    assert sched.detect_crashed() == [] and "boom" in get(run_id).error
    other = new_run(epochs=1)
    with pytest.raises(ValueError, match="is queued"):
        store.resume(other)


@pytest.mark.parametrize("queued,max_running", [(1, 4), (3, 1)])
def test_concurrent_ticks_launch_each_run_once(sched, env, queued, max_running):
    ids = [new_run(epochs=2) for _ in range(queued)]
    schedulers = [Scheduler(max_running=max_running, train_command=FAKE) for _ in range(4)]
    barrier, results = threading.Barrier(4), []

    def tick(s: Scheduler) -> None:
        barrier.wait()
        results.append(s.tick()["runs"])

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i for r in results for i in r["launched"]) == ids[:1]
    run_until_idle(schedulers[0])
    assert [get(i).status for i in ids] == [S.SUCCEEDED] * queued
    assert sorted(int(e[1]) for e in events(env)) == ids  # each job process started exactly once


def test_a_reused_pid_is_never_signalled(sched):
    """A stale running row whose pid now belongs to an unrelated process that even has the run
    id in its argv: the row is failed, the process is left alone (issue 15 item 10)."""
    run_id = new_run()
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "train", "--run-id", str(run_id)]
    stranger = subprocess.Popen(argv, start_new_session=True)
    try:
        p = psutil.Process(stranger.pid)
        # what our job process recorded: the same pid and argv, an earlier start (pid reused)
        fake = {"pid": stranger.pid, "create_time": p.create_time() - 5.0, "cmdline": argv}
        with write_session() as s, s.begin():
            run = s.get(Run, run_id)
            run.status, run.pid, run.proc = S.RUNNING.value, stranger.pid, fake
            run.heartbeat_at = utcnow()
        assert not is_alive(ProcIdentity.from_dict(fake))
        assert sched.detect_crashed(Run, 0.0) == [run_id]  # stale at once, and not ours
        assert get(run_id).error.startswith("job process died")
        store.resume(run_id)
        with write_session() as s, s.begin():  # cancel path: never killed either
            run = s.get(Run, run_id)
            run.status, run.proc = S.CANCELLING.value, fake
        sched.grace_s = 0.0
        assert sched.enforce_cancel() == [run_id] and get(run_id).error is None
        # a legacy row (no identity recorded) with a live-looking pid: never signalled
        with write_session() as s, s.begin():
            run = s.get(Run, run_id)
            run.status, run.proc, run.pid = S.RUNNING.value, None, stranger.pid
        assert sched.detect_crashed(Run, 0.0) == [run_id]
        assert "not signalled" in get(run_id).error
        time.sleep(0.3)
        assert stranger.poll() is None and p.is_running()  # still alive, untouched
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize("variant", ["earlier", "later", "argv", "argv-eq", "bare-id"])
def test_hung_or_cancelled_rows_never_signal_a_stranger(sched, variant):
    """Generated near-misses of a job identity over a live unrelated process: another start time
    (before or after), or the very process but a recorded command line that differs from its
    argv (the run id as `--run-id=N` or bare). Each row ends failed / cancelled, the process
    lives on."""
    run_id = new_run()
    tail = {"argv-eq": [f"--run-id={run_id}"], "bare-id": [str(run_id)]}.get(variant, ["--run-id", str(run_id)])
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "train", *tail]
    stranger = subprocess.Popen(argv)
    try:
        p = psutil.Process(stranger.pid)
        shift = {"earlier": -3.0, "later": 3.0}.get(variant, 0.0)
        cmd = argv if shift else [*argv[:-len(tail)], "--run-id", str(run_id + 1)]
        fake = {"pid": stranger.pid, "create_time": p.create_time() + shift, "cmdline": cmd}
        for status, check in ((S.RUNNING, lambda: sched.detect_crashed(Run, 0.0)),
                              (S.CANCELLING, sched.enforce_cancel)):
            with write_session() as s, s.begin():
                run = s.get(Run, run_id)
                run.status, run.pid, run.proc, run.heartbeat_at = status.value, stranger.pid, fake, None
            sched.grace_s = 0.0
            assert check() == [run_id]
        assert stranger.poll() is None and p.status() != psutil.STATUS_ZOMBIE
    finally:
        stranger.kill()
        stranger.wait()


def test_identity_follows_a_module_that_re_executes_itself():
    rec = ["py", "-m", "core", "train", "--run-id", "5"]
    assert same_command(["py", "-m", "cli", "train", "--run-id", "5"], rec)
    assert not same_command(["py", "-m", "cli", "train", "--run-id", "6"], rec)
    assert not same_command(["sleep", "train", "--run-id", "5"], rec)
    assert same_command(["x", "--run-id", "5"], ["x", "--run-id", "5"])
    assert not same_command(["y", "--run-id", "5"], ["x", "--run-id", "5"])


def test_zombies_and_exited_children_are_not_alive(env):
    done = subprocess.Popen([sys.executable, "-c", "pass"])  # our child, exited, not reaped
    ident = ProcIdentity(done.pid, psutil.Process(done.pid).create_time(), [sys.executable, "-c", "pass"])
    time.sleep(0.3)
    assert not is_alive(ident)
    done.wait()


def test_bad_command_is_rejected(sched):
    with pytest.raises(ValueError, match="id"):
        Scheduler(train_command=[sys.executable, "-c", "pass"])
    run_id = new_run()
    out = Scheduler(train_command=["/nonexistent/worker", "{id}"]).tick()["runs"]
    assert out["failed_to_start"] == [run_id]
    assert "could not start the job process" in get(run_id).error


def test_a_slow_starting_job_gets_startup_time_then_is_killed(sched, env):
    run_id = new_run()
    ident = spawn_detached([sys.executable, "-c", "import time; time.sleep(60)", "--run-id", str(run_id)],
                           log_path=env / "slow.log", env=dict(os.environ), cwd=env)
    with write_session() as s, s.begin():
        run = s.get(Run, run_id)
        run.status, run.pid, run.proc = S.STARTING.value, ident.pid, ident.to_dict()
        run.heartbeat_at = utcnow() - timedelta(seconds=5)  # claimed 5 s ago, still importing
    sched.startup_s = 120.0
    assert sched.detect_crashed(Run, 1.0) == [] and is_alive(ident)  # stale, but still starting
    sched.startup_s = 2.0
    assert sched.detect_crashed(Run, 1.0) == [run_id] and not is_alive(ident)
    assert get(run_id).error.startswith("job process hung, killed")
