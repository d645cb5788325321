"""DDP: two gloo processes under torchrun train one tiny epoch; rank 0 alone writes DB and files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from tests.training.tiny import import_tiny, tiny_config
from training import runs
from training.loop import run_dir

TORCHRUN = Path(sys.executable).with_name("torchrun")


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists() and shutil.which("torchrun") is None,
                    reason="torchrun not installed")
def test_torchrun_two_gloo_processes(env, read):
    import_tiny(env)
    run_id = runs.create_run(tiny_config(epochs=1, batch_size=8))
    cmd = [str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun")), "--standalone",
           "--nproc_per_node", "2", "-m", "cli", "train", "--run-id", str(run_id), "--json"]
    environ = os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1  # only rank 0 prints
    out = json.loads(lines[0])
    assert out["ok"] and out["status"] == "succeeded" and out["run_id"] == run_id
    row = runs.get_run(run_id)
    assert row["status"] == "succeeded" and len(row["metrics"]["history"]) == 1
    assert row["metrics"]["history"][0]["world_size"] == 2
    files = sorted(p.name for p in run_dir(run_id).iterdir())
    assert files == ["best.pt", "last.pt", "state.pt"]  # no stray temp files from rank 1
    from core.store.models import Run
    with read() as s:
        assert s.query(Run).count() == 1  # rank 1 created no Run row
