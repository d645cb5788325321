"""The scheduler starts a run asking for 2 processes under torchrun (gloo on CPU) and it succeeds."""
from __future__ import annotations

import time

import pytest

from core.jobs import store
from core.jobs.scheduler import Scheduler
from tests.training.jobs_common import kill_leftovers
from tests.training.tiny import import_tiny, tiny_config
from training import runs


@pytest.mark.slow
def test_scheduler_launches_a_two_process_ddp_run(env, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    import_tiny(env)
    run_id = store.create_run(tiny_config(epochs=1, batch_size=8, processes=2))
    sched = Scheduler(max_running=1, stale_after_s=120)
    assert "torch.distributed.run" in sched.command(store.Run, run_id)
    try:
        assert sched.tick()["runs"]["launched"] == [run_id]
        deadline = time.monotonic() + 150
        while runs.get_run(run_id)["status"] not in ("succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline, store.tail_log(run_id, 40)
            sched.tick()
            time.sleep(0.5)
    finally:
        kill_leftovers()
    row = runs.get_run(run_id)
    assert row["status"] == "succeeded", (row["error"], store.tail_log(run_id, 40))
    assert row["metrics"]["history"][0]["world_size"] == 2
