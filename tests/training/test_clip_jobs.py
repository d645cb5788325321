"""Clip runs as jobs: a clip Run (temporal, mean baseline, audio-visual) queued on a tiny
CREMA-D-style clip dataset, launched by the scheduler as the worker does (`python -m core train
--run-id N`), trained over the stored clips, evaluated per modality into the run's metrics."""
from __future__ import annotations

import numpy as np
import pytest

from core.clips.run_config import clip_run_config
from core.clips.store_embed import embed_dataset
from core.ingest import import_path
from core.jobs.status import RunStatus
from core.jobs.store import create_run
from tests.clips.clipgen import FACES
from tests.ingest.clipsets import clip
from tests.training.jobs_common import get, work_until_idle
from training.clip_run import holdout, run_clip_training

N = 4


class ColourEmbedder:
    """A stand-in backbone: each crop's mean B, G, R."""

    version, dim = "colour@1", 3

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        return crops.reshape(len(crops), -1, 3).mean(axis=1).astype(np.float32)


@pytest.fixture
def dataset(env):
    root = env / "crema"
    for i, (emo, face) in enumerate(zip(("ANG", "HAP") * 2, FACES)):  # four actors, two with audio
        clip(root / f"10{i:02d}_DFA_{emo}_XX.mp4", face=face, audio_hz=440.0 if i % 2 else None)
    import_path("crema-d", root, dataset="cd", options={"clip_frames": N})
    embed_dataset("cd", embedder=ColourEmbedder())
    return "cd"


def test_holdout_prefers_splits_then_subjects():
    assert holdout(["a", "b"], ["train", "test"]).tolist() == [False, True]
    held = holdout(["s1", "s2", "s3", "s4", "s4"], [None] * 5)
    assert held.tolist() == [False, False, False, True, True]  # one person never on both sides
    assert holdout([None] * 8, [None] * 8).tolist() == [False, False, False, True] * 2


def test_clip_run_config_checks_the_kind():
    with pytest.raises(ValueError, match="not one of"):
        clip_run_config("cd", "lstm")
    with pytest.raises(ValueError, match="two finished"):
        clip_run_config("cd", "fusion", members=[1])


def test_queued_clip_runs_are_trained_by_the_worker_with_per_modality_metrics(env, dataset):
    av = create_run(clip_run_config(dataset, "audio-visual", epochs=3, batch_size=4))
    base = create_run(clip_run_config(dataset, "mean-baseline", epochs=3, batch_size=4))
    assert get(av).status == RunStatus.QUEUED
    work_until_idle()
    for run_id in (av, base):
        run = get(run_id)
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert run.checkpoint_path.endswith("clip_model.pt")
        assert run.metrics["clip"]["train_clips"] == 3 and run.metrics["clip"]["test_clips"] == 1
        assert len(run.metrics["history"]) == 3
    modalities = get(av).metrics["modalities"]
    assert set(modalities) == {"fused", "visual", "audio"}
    assert all("emotion_accuracy" in m for m in modalities.values())
    assert set(get(base).metrics["modalities"]) == {"fused"}

    from core.model.clip_checkpoint import load_clip_model

    _, config, _ = load_clip_model(get(av).checkpoint_path)
    assert config.kind == "av_cross" and config.embedder == "colour@1" and config.frames == N
    assert config.sampling["frames"] == N

    from core.catalog import list_models
    from core.model.clip_export import export_clip_model

    export_clip_model(get(base).checkpoint_path)
    assert not {e.run_id for e in list_models()} & {av, base}  # image-model lists never offer clip models
    assert all(not e.path or not e.path.name.startswith("clip_model") for e in list_models())
    clips = {(e.kind, e.run_id) for e in list_models(clips=True) if e.kind in ("clip", "clip-onnx")}
    assert clips == {("clip", av), ("clip", base), ("clip-onnx", base)}

    from pathlib import Path

    from core.clips.predict_file import resolve_clip_model

    assert resolve_clip_model(f"run:{av}") == Path(get(av).checkpoint_path)  # predict --clip --model run:N
    with pytest.raises(LookupError, match="not a clip model"):
        resolve_clip_model(f"run:{av + 100}")


def test_a_clip_run_without_embeddings_fails_with_the_fix(env):
    root = env / "crema"
    for i, emo in enumerate(("ANG", "HAP")):
        clip(root / f"10{i:02d}_DFA_{emo}_XX.mp4", face=FACES[i], audio_hz=None)
    import_path("crema-d", root, dataset="raw", options={"clip_frames": N})
    run_id = create_run(clip_run_config("raw", "temporal", epochs=1))
    out = run_clip_training(run_id)
    assert out["status"] == RunStatus.FAILED and "affectlab embed" in out["error"]
    assert get(run_id).status == RunStatus.FAILED and "affectlab embed" in get(run_id).error
