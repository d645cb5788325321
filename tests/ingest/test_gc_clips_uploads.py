"""`gc` beyond crops: clip arrays (embeddings, audio images) no clip names and their resume
records, and upload folders of analyses past their keep time (core.analyse_job.expired_uploads)."""
from __future__ import annotations

import json
import os
import time
from datetime import timedelta

import numpy as np

from core.clips.store_embed import embed_dataset
from core.ingest import import_path
from core.ingest.gc import collect_garbage
from core.store.clips import list_clips
from core.store.models import Job, utcnow
from tests.clips.clipgen import FACES
from tests.ingest.clipsets import clip


class ColourEmbedder:
    """A stand-in backbone: each crop's mean B, G, R."""

    version, dim = "colour@1", 3

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        return crops.reshape(len(crops), -1, 3).mean(axis=1).astype(np.float32)


def test_gc_keeps_the_arrays_clips_name_and_removes_the_rest(env, read):
    for i, emo in enumerate(("ANG", "HAP")):
        clip(env / "crema" / f"10{i:02d}_DFA_{emo}_XX.mp4", face=FACES[i], audio_hz=440.0)
    import_path("crema-d", env / "crema", dataset="cd", options={"clip_frames": 3})
    assert embed_dataset("cd", embedder=ColourEmbedder())["embedded"] == 2
    data = env / "data"
    with read() as s:
        clips = list_clips(s, 1)
    kept = [data / c.embedding("colour@1")["rel"] for c in clips] + [data / c.arrays["audio"]["rel"] for c in clips]
    orphan = data / "clip_embeddings" / "cd" / ("cd" + "1" * 62 + ".npy")  # a killed run's array
    orphan.parent.mkdir(parents=True, exist_ok=True)
    np.save(orphan, np.zeros((3, 3), np.float16))
    stale = data / "clip_embeddings" / "keys" / "ff" / ("ff" + "0" * 62 + ".json")
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text(json.dumps({"rel": orphan.relative_to(data).as_posix()}))
    live = stale.with_name("ff" + "1" * 62 + ".json")  # a record whose array a clip names
    live.write_text(json.dumps({"rel": kept[0].relative_to(data).as_posix()}))

    dry = collect_garbage(dry_run=True)
    assert dry["would_remove"]["clip_embeddings"] == 1 and dry["would_remove"]["keys"] == 1
    assert orphan.exists() and stale.exists()
    done = collect_garbage()
    assert (done["removed"]["clip_embeddings"], done["removed"]["clip_audio"], done["removed"]["keys"]) == (1, 0, 1)
    assert not orphan.exists() and not stale.exists() and live.exists() and all(p.is_file() for p in kept)
    assert embed_dataset("cd", embedder=ColourEmbedder())["resumed"] == 2  # the live records still resume


def _job(write, folder: str, status: str, finished_days_ago: float | None) -> None:
    with write() as s, s.begin():
        s.add(Job(kind="analyse", status=status, args={"path": f"uploads/{folder}/video.mp4", "name": folder},
                  finished_at=None if finished_days_ago is None else utcnow() - timedelta(days=finished_days_ago)))


def test_gc_removes_upload_folders_past_their_keep_time(env, write, monkeypatch):
    root = env / "data" / "uploads"
    for name in ("queued", "old", "recent", "orphan_old", "orphan_new", "running_old"):
        (root / name).mkdir(parents=True)
        (root / name / "timeline.parquet").write_bytes(b"x" * 100)
    _job(write, "queued", "queued", None)
    _job(write, "old", "succeeded", 8)
    _job(write, "recent", "failed", 1)
    _job(write, "running_old", "running", 30)
    two_days = time.time() - 2 * 86400
    for p in (root / "orphan_old", root / "orphan_old" / "timeline.parquet"):
        os.utime(p, (two_days, two_days))

    dry = collect_garbage(dry_run=True)
    assert dry["would_remove"]["uploads"] == 2 and (root / "old").exists()
    done = collect_garbage()
    assert done["removed"]["uploads"] == 2 and done["bytes"] >= 200
    assert sorted(p.name for p in root.iterdir()) == ["orphan_new", "queued", "recent", "running_old"]
    monkeypatch.setenv("AFFECTLAB_UPLOAD_KEEP_DAYS", "0.5")  # a shorter keep time takes the recent one too
    assert collect_garbage()["removed"]["uploads"] == 1 and not (root / "recent").exists()
