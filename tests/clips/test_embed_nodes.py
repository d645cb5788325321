"""The documented multi-node command, on one machine: two torchrun "nodes" of one process each meet
at a c10d rendezvous on loopback and share a clip dataset's embedding, on SQLite and (when
AFFECTLAB_TEST_PG_URL names a server) PostgreSQL; every clip embedded once, one summary."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from core.store.clips import list_clips
from core.store.datasets import require_dataset
from tests.clips.tinyclips import crema_clips
from tests.store.conftest import env  # noqa: F401  (the store fixture: SQLite and PostgreSQL)

TORCHRUN = Path(sys.executable).with_name("torchrun")
CLIPS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun not installed")
def test_two_nodes_meet_at_a_c10d_rendezvous_and_share_the_clips(env, read):  # noqa: F811
    crema_clips(env, CLIPS)
    port = _free_port()
    environ = os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    nodes = [subprocess.Popen([str(TORCHRUN), "--nnodes", "2", "--node_rank", str(node), "--nproc_per_node", "1",
                               "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}",
                               "--rdzv_id", "embed-test", "-m", "core", "embed", "--dataset", "cd", "--no-audio",
                               "--json"], cwd=REPO_ROOT, env=environ, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for node in (0, 1)]
    outs = [p.communicate(timeout=240) for p in nodes]
    assert [p.returncode for p in nodes] == [0, 0], [err[-2000:] for _, err in outs]
    lines = [ln for out, _ in outs for ln in out.splitlines() if ln.startswith("{")]
    assert len(lines) == 1  # one summary, from whichever node holds rank 0
    result = json.loads(lines[0])
    assert (result["world_size"], result["embedded"], result["resumed"]) == (2, CLIPS, 0)
    assert sorted(r["rank"] for r in result["ranks"]) == [0, 1] and all(r["embedded"] for r in result["ranks"])
    with read() as s:
        clips = list_clips(s, require_dataset(s, "cd").id)
    assert len(clips) == CLIPS and all(list(c.arrays["embeddings"]) == [result["model"]] for c in clips)
    assert all((env / "data" / c.embedding(result["model"])["rel"]).is_file() for c in clips)
