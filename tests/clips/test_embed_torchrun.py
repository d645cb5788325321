"""`affectlab embed` under torchrun: two gloo processes on CPU share a generated clip dataset; every
clip is embedded by exactly one rank, the arrays equal a single-process run's, the store holds no
duplicates, and a rerun finds everything done."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import REPO_ROOT
from core.ingest import import_path
from core.store.clips import list_clips
from core.store.datasets import require_dataset
from tests.clips.tinyclips import crema_clips, train_tiny

TORCHRUN = Path(sys.executable).with_name("torchrun")
CLIPS = 5


def _cli(args: list[str], environ: dict[str, str], *, nproc: int = 0) -> dict:
    """One JSON result of `python -m cli ARGS --json` (under torchrun with nproc processes)."""
    head = ([str(TORCHRUN), "--standalone", "--nproc_per_node", str(nproc)] if nproc else [sys.executable])
    proc = subprocess.run([*head, "-m", "cli", *args, "--json"], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"} | environ,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout  # only rank 0 prints
    return json.loads(lines[0])


def _copy_store(env: Path) -> tuple[Path, Path]:
    """A copy of the test store (SQLite file, data dir) for the single-process run."""
    from core.store.db import dispose_all

    dispose_all()
    single_db, single_data = env / "single.db", env / "single_data"
    with sqlite3.connect(env / "test.db") as src, sqlite3.connect(single_db) as dst:
        src.backup(dst)
    shutil.copytree(env / "data", single_data)
    return single_db, single_data


def _single(db: Path, data: Path) -> dict[str, str]:
    return {"AFFECTLAB_DATA_DIR": str(data), "AFFECTLAB_DB_URL": f"sqlite:///{db}"}


def _stored(db: Path) -> dict[int, dict]:
    """sample id -> the clip's arrays, read straight from a SQLite store."""
    with sqlite3.connect(db) as conn:
        return {sid: json.loads(arrays) for sid, arrays in conn.execute("SELECT sample_id, arrays FROM clips")}


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun not installed")
def test_two_processes_share_the_clips_like_one(env, read):
    from core.assets import asset_path
    from core.model.checkpoint import save_checkpoint
    from core.model.convert_fer import convert_fer_hdf5
    crema_clips(env, CLIPS)  # distinct faces, audio on every other clip, one clip starting faceless
    model = str(save_checkpoint(env / "fer.pt", convert_fer_hdf5(asset_path("emotion_model.hdf5"))))
    with read() as s:
        sids = [c.sample_id for c in list_clips(s, require_dataset(s, "cd").id)]
    single_db, single_data = _copy_store(env)

    args = ["embed", "--dataset", "cd", "--model", model]
    two = _cli(args, {}, nproc=2)
    assert (two["world_size"], two["clips"], two["embedded"], two["resumed"]) == (2, CLIPS, CLIPS, 0)
    assert [r["rank"] for r in two["ranks"]] == [0, 1] and all(r["embedded"] > 0 for r in two["ranks"])
    assert sum(r["embedded"] for r in two["ranks"]) == CLIPS  # each clip by one rank only
    one = _cli(args, _single(single_db, single_data))
    assert (one["world_size"], one["embedded"], one["audio"], one["frames"]) == (
        1, CLIPS, two["audio"], two["frames"]) and "ranks" not in one

    sharded, alone = _stored(env / "test.db"), _stored(single_db)
    assert sorted(sharded) == sorted(alone) == sorted(sids)
    version = two["model"]
    for sid in sids:
        assert list(sharded[sid]["embeddings"]) == [version]  # one entry per clip and model
        mine, theirs = sharded[sid]["embeddings"][version], alone[sid]["embeddings"][version]
        assert mine == theirs  # same content hash: the same float16 array
        a, b = np.load(env / "data" / mine["rel"]), np.load(single_data / theirs["rel"])
        assert a.shape == (4, 128) and np.array_equal(a, b, equal_nan=True)
        assert sharded[sid]["audio"] == alone[sid]["audio"]
    files = sorted((env / "data" / "clip_embeddings").rglob("*"))
    assert not [p for p in files if p.name.endswith(".tmp")]  # no half-written file left
    assert len([p for p in files if p.suffix == ".npy"]) == len({sharded[s]["embeddings"][version]["sha"]
                                                                 for s in sids})

    again = _cli(args, {}, nproc=2)
    assert (again["embedded"], again["audio"], again["resumed"]) == (0, 0, CLIPS)
    assert _stored(env / "test.db") == sharded


def _predictions(db: Path, version: str) -> list[tuple]:
    """(sample id, emotion, probs, split) of every stored prediction of a model version."""
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT sample_id, emotion, probs, split FROM predictions "
                                   "WHERE model_version = ?", (version,)))


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun not installed")
def test_predict_clips_under_two_processes_stores_what_one_does(env, read):
    from core.clips.store_embed import embed_dataset
    from core.clips.store_predict import clip_model_version

    crema_clips(env, CLIPS)
    half = embed_dataset("cd")["model"]  # the default model's embeddings, to train on
    ckpt = train_tiny(env, "cd")
    import_path("crema-d", env / "crema", dataset="more", options={"clip_frames": 4})  # not embedded yet
    single_db, single_data = _copy_store(env)
    version = clip_model_version(ckpt)

    args = ["predict-clips", "--dataset", "more", "--model", str(ckpt)]
    two = _cli(args, {}, nproc=2)
    assert (two["world_size"], two["clips"], two["predicted"], two["skipped_existing"]) == (2, CLIPS, CLIPS, 0)
    assert two["embed"]["embedded"] == CLIPS and two["embed"]["model"] == half  # embedded on the way
    assert sorted(r["predicted"] for r in two["ranks"]) == [CLIPS // 2, CLIPS - CLIPS // 2]
    one = _cli(args, _single(single_db, single_data))
    assert (one["world_size"], one["predicted"]) == (1, CLIPS)
    sharded = _predictions(env / "test.db", version)
    assert len({row[0] for row in sharded}) == len(sharded) == CLIPS  # one prediction per clip
    assert sharded == _predictions(single_db, version)

    again = _cli(args, {}, nproc=2)
    assert (again["predicted"], again["skipped_existing"], again["embed"]["embedded"]) == (0, CLIPS, 0)
    assert _predictions(env / "test.db", version) == sharded
