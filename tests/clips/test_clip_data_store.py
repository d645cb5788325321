"""Clip training data from the store: `embed` over every clip of a dataset (resumable, masked rows
NaN, audio images), then embeddings + masks + audio + label targets feed training.clip_train."""
from __future__ import annotations

import numpy as np
import pytest

from core.clips.store_embed import embed_dataset
from core.ingest import import_path
from core.store.clips import get_clip, list_clips
from core.store.datasets import require_dataset
from tests.clips.clipgen import FACES
from tests.ingest.clipsets import clip

N = 4


class ColourEmbedder:
    """A stand-in backbone: each crop's mean B, G, R (what the face looks like, cheaply)."""

    version, dim = "colour@1", 3

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        self.calls += len(crops)
        return crops.reshape(len(crops), -1, 3).mean(axis=1).astype(np.float32)


@pytest.fixture
def dataset(env, read):
    root = env / "crema"
    for i, (emo, face) in enumerate(zip(("ANG", "HAP") * 2, FACES)):  # four distinct clips
        clip(root / f"10{i:02d}_DFA_{emo}_XX.mp4", face=face, audio_hz=440.0 if i % 2 else None,
             faceless=range(0, 3) if i == 0 else ())
    import_path("crema-d", root, dataset="cd", options={"clip_frames": N})
    return "cd"


def test_embed_stores_arrays_resumes_and_loads_for_training(env, read, dataset):
    fake = ColourEmbedder()
    seen = []
    out = embed_dataset(dataset, embedder=fake, progress=lambda done, total: seen.append((done, total)))
    assert (out["clips"], out["embedded"], out["resumed"], out["audio"]) == (4, 4, 0, 2)
    assert out["frames"] == fake.calls == 4 * N - 1 and seen[-1] == (4, 4)  # clip 0 misses its first slot
    with read() as s:
        clips = list_clips(s, require_dataset(s, dataset).id)
    first = np.load(env / "data" / clips[0].embedding("colour@1")["rel"])
    assert first.shape == (N, 3) and np.isnan(first[0]).all() and np.isfinite(first[1:]).all()
    assert clips[0].arrays["audio"] == {"present": False, "why": "no audio track"}
    assert clips[1].arrays["audio"]["present"] and len(clips[1].arrays["audio"]["valid"]) == 300
    again = embed_dataset(dataset, embedder=ColourEmbedder())
    assert (again["embedded"], again["resumed"], again["audio"]) == (0, 4, 0)
    (env / "data" / clips[2].embedding("colour@1")["rel"]).unlink()  # a lost file is computed again
    assert embed_dataset(dataset, embedder=ColourEmbedder())["embedded"] == 1

    from training.clip_data import store_clip_data

    data = store_clip_data(dataset, audio=True)
    assert data.model == "colour@1" and data.tasks == ["emotion", "va", "stress"]
    assert data.data.frames.shape == (4, N, 3) and data.data.mask[0].tolist() == [False, True, True, True]
    assert data.data.targets["emotion"].tolist() == [data.schema.classes.index(c) for c in
                                                     ("Anger", "Happy", "Anger", "Happy")]
    assert data.data.audio_valid.any(axis=1).tolist() == [False, True, False, True]
    assert data.subjects == ["1000", "1001", "1002", "1003"] and data.sample_ids == [c.sample_id for c in clips]

    from core.model.clip_checkpoint import build_clip_model
    from core.model.clip_config import ClipConfig
    from training.clip_train import ClipTrainOptions, evaluate_clips, train_clip_model

    model = build_clip_model(ClipConfig(kind="mean_mlp", schema=data.schema.to_dict(), tasks=["emotion"], frames=N,
                                        input_dim=3, hidden=16))
    _, history = train_clip_model(model, data.data, options=ClipTrainOptions(epochs=40, batch_size=4, lr=0.05,
                                                                              threads=1))
    assert history[-1]["loss"] < history[0]["loss"] and "emotion_accuracy" in str(evaluate_clips(model, data.data))


def test_missing_embeddings_name_the_fix(env, read, dataset):
    from training.clip_data import store_clip_data

    with pytest.raises(ValueError, match="affectlab embed --dataset"):
        store_clip_data(dataset)
    embed_dataset(dataset, embedder=ColourEmbedder(), audio=False)
    with read() as s:
        sid = list_clips(s, require_dataset(s, dataset).id)[0].sample_id
        assert get_clip(s, sid).arrays.get("audio") is None
    with pytest.raises(ValueError, match="have no embeddings by other@2"):
        store_clip_data(dataset, model="other@2")
    from training.clip_data import iter_store_clips

    crops = next(iter_store_clips(dataset, crops=True))
    assert crops["frames"].shape[0] == N and crops["frames"].dtype == np.uint8


def test_a_snapshot_freezes_the_clip_labels_a_run_reads(env, read, write, dataset):
    """A clip run trains on the snapshot taken when it was queued: a later relabel and a later
    clip do not reach it, while the current labels show both."""
    from core.store.labels import edit_label
    from core.store.models import Sample
    from core.store.snapshots import create_snapshot
    from training.clip_data import store_clip_data

    embed_dataset(dataset, embedder=ColourEmbedder(), audio=False)
    with write() as s, s.begin():
        create_snapshot(s, dataset, "v1")
        first = list_clips(s, require_dataset(s, dataset).id)[0].sample_id
        edit_label(s, first, base_annotation_id=s.get(Sample, first).cur_annotation_id, annotator="ana",
                   emotion="Sad")
    clip(env / "crema2" / "1099_DFA_HAP_XX.mp4", face=FACES[0])  # a fifth clip, after the snapshot
    import_path("crema-d", env / "crema2", dataset=dataset, options={"clip_frames": N})
    embed_dataset(dataset, embedder=ColourEmbedder(), audio=False)

    now = store_clip_data(dataset)
    frozen = store_clip_data(dataset, snapshot="v1")
    classes = list(now.schema.classes)
    assert len(now.sample_ids) == 5 and now.data.targets["emotion"][0] == classes.index("Sad")
    assert frozen.sample_ids == now.sample_ids[:4]
    assert frozen.data.targets["emotion"].tolist() == [classes.index(c) for c in ("Anger", "Happy", "Anger", "Happy")]
    with pytest.raises(Exception, match="v9"):
        store_clip_data(dataset, snapshot="v9")
