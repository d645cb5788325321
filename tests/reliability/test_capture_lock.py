"""A live capture releases the crop store's shared lock when it returns or fails, not when its
BlobStore happens to be garbage-collected: right after it, `gc` and another import's clean-up run.
Generated: captures that add, find an existing crop, or fail at the crop write, the commit or the
prediction record, several in a row; the BlobStores are kept alive so only an explicit release
frees the lock."""
from __future__ import annotations

import errno
import os
import time

import numpy as np
import pytest

import core.ingest.files as files
from core.config import get_settings
from core.inference.prediction import FacePrediction
from core.ingest.blob_lock import DataDirError, exclusive
from core.ingest.gc import collect_garbage
from core.live import LiveSnapshot, capture_to_dataset
from tests.reliability.corpus import REPORT

OUTCOMES = ["added", "existing", "crop write fails", "commit fails", "prediction record fails"]


def snapshot(seed: int) -> LiveSnapshot:
    rng = np.random.default_rng(seed)
    face = FacePrediction(probs={"Neutral": 0.6, "Happy": 0.4}, emotion="Neutral", confidence=0.6,
                          valence=0.1, arousal=-0.2, stress=0.3, flags={"emotion": "trained"},
                          bbox=(10.0, 12.0, 40.0, 40.0), score=0.9, keypoints=rng.random((5, 2)) * 50,
                          quality=0.8)
    return LiveSnapshot(frame_index=seed, timestamp=time.time(), predictions=(face,), fps=10.0,
                        latency_ms=5.0, crop=rng.integers(0, 255, (64, 64, 3), dtype=np.uint8),
                        model_version="m@1")


@pytest.fixture
def kept(env, monkeypatch):
    """Every BlobStore a capture makes, referenced here (as a frame held by a traceback would)."""
    stores: list[files.BlobStore] = []

    class Kept(files.BlobStore):
        def __init__(self) -> None:
            super().__init__()
            stores.append(self)

    monkeypatch.setattr(files, "BlobStore", Kept)
    return stores


def _fail(monkeypatch, outcome: str) -> None:
    import core.ingest.commit as commit
    import core.store.predictions as predictions

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if outcome == "crop write fails":
        monkeypatch.setattr(files, "_write_atomic", boom)
    elif outcome == "commit fails":
        monkeypatch.setattr(commit, "commit_samples", boom)
    elif outcome == "prediction record fails":
        monkeypatch.setattr(predictions, "record_predictions", boom)


@pytest.mark.parametrize("rounds", [1, 3])
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_the_lock_is_free_right_after_a_capture(kept, monkeypatch, outcome, rounds):
    data_dir = get_settings().data_dir
    for i in range(rounds):
        shot = snapshot(0 if outcome == "existing" else i)
        if outcome == "existing":
            capture_to_dataset("captures", shot)
        with monkeypatch.context() as patch:
            _fail(patch, outcome)
            if outcome.endswith("fails"):
                with pytest.raises((OSError, DataDirError)):
                    capture_to_dataset("captures", shot)
            else:
                result = capture_to_dataset("captures", shot)
                assert result["added" if outcome == "added" else "existing"] == 1
        assert kept and not any(store.lock.held for store in kept)
        with exclusive(data_dir) as free:  # what gc and a refused import's clean-up take
            REPORT.record("live capture releases the crop-store lock", clear_error=free)
            assert free, f"capture ({outcome}) still holds the crop-store lock"
    done = collect_garbage()  # not GcBusy; keeps every crop a sample references
    crops = sorted(p.name for p in (data_dir / "crops").rglob("*.png")) if (data_dir / "crops").exists() else []
    assert done["removed"]["crops"] == 0
    if outcome.endswith("fails"):
        assert crops == []
    else:
        assert len(crops) == (1 if outcome == "existing" else rounds)
