"""core.store.review_clips on a seeded store (SQLite and PostgreSQL): clips ordered by each
modality's stored loss, the split filter, still faces left out, the run's per-modality metrics."""
from __future__ import annotations

import pytest

from core.clips.run_config import clip_run_config
from core.store.clips import add_clips
from core.store.db import read_session, write_session
from core.store.models import Run
from core.store.predictions import record_predictions
from core.store.review import review_sources
from core.store.review_clips import (
    clip_losses,
    clip_review_rows,
    is_clip_source,
    modality_metrics,
    modality_table,
    stored_modalities,
)
from tests.store.seed import seed_samples

# sample -> (split, fused, visual, audio loss); sample 3 has no label (no loss), 5 is a still face
LOSSES = {1: ("train", 0.5, 0.9, 0.1), 2: ("held-out", 0.2, 0.1, 0.8), 3: ("held-out", None, None, None),
          4: ("train", 0.9, 0.3, 0.4)}
TRAINED = {"fused": {"emotion_accuracy": 0.5}, "visual": {"emotion_accuracy": 0.25},
           "audio": {"emotion_accuracy": 0.75}}
EVALUATED = {"audio": {"emotion_accuracy": 1.0, "valence_ccc": 0.3}, "fused": {"emotion_accuracy": 0.9},
             "visual": {"emotion_accuracy": 0.1}}


def _clip(sid: int) -> dict:
    return {"sample_id": sid, "start": 0.0, "end": 0.5, "frames": 4, "rule": {"frames": 4},
            "frame_indices": [0, 3, 6, 9], "mask": [True, True, sid != 2, True], "crops_sha256": "0" * 64,
            "crops_path": f"clip_crops/00/{sid}.npy", "has_audio": sid % 2 == 1}


def _entry(emotion: str, loss: float | None) -> dict:
    return {"probs": {emotion: 0.9}, "emotion": emotion, "confidence": 0.9, "valence": 0.0, "arousal": 0.0,
            "stress": 0.5, "loss": loss}


@pytest.fixture
def seeded(env):
    with write_session() as s, s.begin():
        ds = seed_samples(s, 5, dataset="d")
        add_clips(s, [_clip(i) for i in LOSSES])
        s.add(Run(id=1, name="av", dataset_id=ds.id, status="succeeded",
                  config=clip_run_config("d", "audio-visual"),
                  metrics={"modalities": TRAINED, "eval": {"held-out": {"modalities": EVALUATED}}}))
        s.add(Run(id=2, name="temporal", dataset_id=ds.id, status="succeeded", config=clip_run_config("d"),
                  metrics={"modalities": {"fused": {"emotion_accuracy": 0.6}}}))
        s.add(Run(id=3, name="image", dataset_id=ds.id, status="succeeded", config={"dataset": "d"}))
        s.flush()
        rows = [{"sample_id": sid, "run_id": 1, "model_version": "run-1", "split": split, "probs": {"Happy": 0.9},
                 "loss": fused, "outputs": {"modalities": {"fused": _entry("Happy", fused),
                                                           "visual": _entry("Sad", visual),
                                                           "audio": _entry("Anger", audio)}}}
                for sid, (split, fused, visual, audio) in LOSSES.items()]
        rows.append({"sample_id": 5, "run_id": 1, "model_version": "run-1", "split": "train",
                     "probs": {"Happy": 0.9}, "loss": 5.0})  # a still face: not a clip
        rows += [{"sample_id": sid, "run_id": 2, "model_version": "run-2", "split": "train",
                  "probs": {"Sad": 0.6}, "loss": sid / 10} for sid in LOSSES]  # stored before per-modality outputs
        rows.append({"sample_id": 1, "run_id": 3, "model_version": "run-3", "split": "test", "probs": {"Sad": 1.0}})
        record_predictions(s, rows)
    with read_session() as s:
        return {src.run_id: src for src in review_sources(s)}


def test_clips_ordered_by_each_modality_loss(seeded):
    av = seeded[1]
    with read_session() as s:
        assert is_clip_source(s, av) and is_clip_source(s, seeded[2]) and not is_clip_source(s, seeded[3])
        assert stored_modalities(s, av) == ["fused", "visual", "audio"]
        assert clip_losses(s, av, modality="audio") == ([1, 2, 3, 4], [0.1, 0.8, None, 0.4])
        order = {(m, o): [r["id"] for r in clip_review_rows(s, av, modality=m, order=o)[0]]
                 for m in ("fused", "visual", "audio") for o in ("worst", "best")}
        held, n_held = clip_review_rows(s, av, split="held-out", modality="fused")
        page, total = clip_review_rows(s, av, modality="fused", order="worst", limit=2, offset=1)
    assert order[("fused", "worst")] == [4, 1, 2] and order[("fused", "best")] == [2, 1, 4]
    assert order[("visual", "worst")] == [1, 4, 2] and order[("audio", "worst")] == [2, 4, 1]
    assert order[("audio", "best")] == [1, 4, 2]
    assert [r["id"] for r in held] == [2] and n_held == 1  # sample 3 has no loss
    assert [r["id"] for r in page] == [1, 2] and total == 3
    with read_session() as s:  # a row: the clip's facts and the modality's own prediction
        row = clip_review_rows(s, av, modality="visual", order="best")[0][0]
    assert row["id"] == 2 and row["pred_emotion"] == "Sad" and row["loss"] == 0.1
    assert (row["faces"], row["slots"], row["audio"], row["split"]) == (3, 4, False, "held-out")
    assert row["crop_path"] == "crops/x/1.png" and row["start"] == 0.0 and row["end"] == 0.5


def test_rows_without_per_modality_outputs_order_by_their_loss(seeded):
    with read_session() as s:
        assert stored_modalities(s, seeded[2]) == ["fused"]
        assert [r["id"] for r in clip_review_rows(s, seeded[2], order="worst")[0]] == [4, 3, 2, 1]
        assert clip_review_rows(s, seeded[2], modality="audio")[0] == []


def test_per_modality_metrics_newest_evaluation_first(seeded):
    with read_session() as s:
        av, temporal = modality_metrics(s, 1), modality_metrics(s, 2)
        assert modality_metrics(s, 99) == {}
    assert list(av) == ["fused", "visual", "audio"] and av["audio"]["emotion_accuracy"] == 1.0
    assert temporal == {"fused": {"emotion_accuracy": 0.6}}  # no evaluation since training
    assert modality_table(av) == [
        {"modality": "fused", "emotion_accuracy": 0.9, "valence_ccc": None},
        {"modality": "visual only", "emotion_accuracy": 0.1, "valence_ccc": None},
        {"modality": "audio only", "emotion_accuracy": 1.0, "valence_ccc": 0.3}]
