"""`predict-clips`: a clip model over every stored clip of a dataset (embedded first with the image
model it names), one Prediction per clip stored like prelabel's, resumable; audio-visual inputs
from the stored audio images."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from core.clips.store_embed import embed_dataset
from core.clips.store_predict import clip_inputs, clip_model_version, predict_dataset_clips
from core.ingest import import_path
from core.store.clips import list_clips
from core.store.datasets import require_dataset
from core.store.models import Prediction
from tests.clips.tinyclips import N, crema_clips, train_tiny


@pytest.fixture
def dataset(env) -> str:
    name = crema_clips(env)
    embed_dataset(name)  # the default model's embeddings and the audio images
    return name


def test_every_clip_is_predicted_once_and_a_rerun_adds_nothing(env, read, dataset):
    ckpt = train_tiny(env, dataset)
    seen = []
    out = predict_dataset_clips(dataset, ckpt, progress=lambda done, total: seen.append((done, total)))
    version = clip_model_version(ckpt)
    assert version.startswith("mean_mlp@") and out["model_version"] == version
    assert (out["clips"], out["predicted"], out["skipped_existing"], out["no_input"]) == (4, 4, 0, 0)
    assert out["embed"]["embedded"] == 0 and out["embed"]["resumed"] == 4  # embedded already
    assert seen[-1] == (4, 4) and out["world_size"] == 1 and "ranks" not in out
    with read() as s:
        clips = list_clips(s, require_dataset(s, dataset).id)
        rows = s.scalars(select(Prediction).where(Prediction.model_version == version)).all()
    assert sorted(r.sample_id for r in rows) == [c.sample_id for c in clips]
    assert all(r.run_id is None and r.loss is None and r.flags["emotion"] == "trained" for r in rows)
    by_sample = {r.sample_id: r for r in rows}
    assert [by_sample[c.sample_id].emotion for c in clips] == ["Anger", "Happy", "Anger", "Happy"]  # fitted
    again = predict_dataset_clips(dataset, ckpt)
    assert (again["predicted"], again["skipped_existing"]) == (0, 4)
    with read() as s:
        assert s.scalar(select(Prediction.id).where(Prediction.model_version == version)
                        .order_by(Prediction.id.desc())) == max(r.id for r in rows)


def test_clips_without_embeddings_are_embedded_first_with_the_models_image_model(env, read, dataset):
    ckpt = train_tiny(env, dataset)
    import_path("crema-d", env / "crema", dataset="cd2", options={"clip_frames": N})  # not embedded
    out = predict_dataset_clips("cd2", ckpt)
    assert (out["embed"]["embedded"], out["embed"]["model"], out["predicted"]) == (4, out["embed"]["model"], 4)
    with read() as s:
        clips = list_clips(s, require_dataset(s, "cd2").id)
    assert all(list(c.arrays["embeddings"]) == [out["embed"]["model"]] for c in clips)


def test_audio_visual_inputs_come_from_the_stored_audio_images(env, read, dataset):
    from core.clips.predict import ClipModelRunner

    runner = ClipModelRunner(train_tiny(env, dataset, "av_concat"))
    with read() as s:
        clips = list_clips(s, require_dataset(s, dataset).id)
    feed = clip_inputs(clips, runner.config)
    assert feed["frames"].shape == (4, N, 128) and feed["mask"].tolist() == [c.mask for c in clips]
    assert not all(clips[0].mask) and not feed["frames"][0][~feed["mask"][0]].any()  # masked slots zero
    assert feed["audio"].shape == (4, 40, 300)
    assert feed["audio_valid"].any(axis=1).tolist() == [False, True, False, True]  # tones on clips 1, 3
    stored = np.load(env / "data" / clips[1].arrays["audio"]["rel"]).astype(np.float32)
    assert np.array_equal(feed["audio"][1], np.nan_to_num(stored)) and not feed["audio"][0].any()
    out = predict_dataset_clips(dataset, runner.path)
    assert out["predicted"] == 4 and out["backend"] == "torch"
