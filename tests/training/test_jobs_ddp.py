"""The job queue starts a run asking for 2 processes under torchrun (gloo on CPU) and it succeeds."""
from __future__ import annotations

import pytest

from tests.training.tiny import import_tiny, tiny_config
from training import jobs, runs


@pytest.mark.slow
def test_queue_launches_a_two_process_ddp_run(env, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    import_tiny(env)
    run_id = runs.create_run(tiny_config(epochs=1, batch_size=8, processes=2))
    assert "torch.distributed.run" in jobs._default_command(run_id, None)
    done = jobs.run_queue(jobs.JobQueue(max_running=1, stale_after_s=120), poll_s=0.5, timeout_s=150)
    row = runs.get_run(run_id)
    assert row["status"] == "succeeded", (row["error"], jobs.tail_log(run_id, 40))
    assert run_id in done["launched"]
    assert row["metrics"]["history"][0]["world_size"] == 2
