"""Fusion of two frozen temporal models, and audio-visual fusion with per-modality ablation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.audio import AudioParams
from core.label_schema import LabelSchema, TargetSpec
from core.model.clip_checkpoint import build_clip_model, load_clip_model, save_clip_model
from core.model.clip_config import ClipConfig
from core.model.fusion import fusion_from_members
from tests.model.clip_synth import ORDER, D, N, order_clips, split
from training.clip_data import ClipData, label_targets
from training.clip_train import ClipTrainOptions, evaluate_clips, evaluate_modalities, train_clip_model

ENERGY = LabelSchema(classes=ORDER.classes, stress=False, targets=(TargetSpec("energy", -2.0, 2.0),))
AUDIO = AudioParams(n_mels=32, n_mfcc=16, width=64)



def _with_energy(seed: int = 0) -> tuple[ClipData, np.ndarray]:
    """The order clips plus a per-clip level s along a fixed direction (named target 'energy')."""
    data, y = order_clips(seed=seed)
    rng = np.random.default_rng(seed + 1)
    s = rng.uniform(-1, 1, len(y)).astype(np.float32)
    w = rng.normal(size=D).astype(np.float32)
    data.frames += (s[:, None, None] * w) * data.mask[..., None]
    data.targets["targets"] = s[:, None]
    return data, s


def _cfg(kind: str, schema: LabelSchema, tasks: list[str], **kw) -> ClipConfig:
    return ClipConfig(kind=kind, schema=schema.to_dict(), tasks=tasks, frames=N, input_dim=D, d_model=32,
                      hidden=64, layers=1, **kw)


def test_fusion_of_two_frozen_models_learns_both_tasks(tmp_path):
    data, _ = _with_energy()
    train, test = split(data, 160)
    opts = ClipTrainOptions(epochs=15, batch_size=32, threads=1)
    emo, _ = train_clip_model(build_clip_model(_cfg("transformer", ORDER, ["emotion"])), train, options=opts)
    energy, _ = train_clip_model(build_clip_model(_cfg("mean_mlp", ENERGY, ["targets"])), train, options=opts)
    fused = fusion_from_members(emo, energy, d_model=32, hidden=64, layers=1)
    assert fused.config.tasks == ["emotion", "targets"]
    frozen = {k: v.clone() for k, v in fused.members.state_dict().items()}
    trainable = sum(p.numel() for p in fused.parameters() if p.requires_grad)
    assert 0 < trainable < sum(p.numel() for p in fused.parameters())
    fused, _ = train_clip_model(fused, train, options=ClipTrainOptions(epochs=15, batch_size=32, threads=1),
                                out=tmp_path / "fusion.pt")
    assert all(torch.equal(v, fused.members.state_dict()[k]) for k, v in frozen.items())
    metrics = evaluate_clips(fused, test)
    assert metrics["emotion_accuracy"] >= 0.85  # chance 0.5
    assert metrics["energy_ccc"] > 0.7
    loaded, config, meta = load_clip_model(tmp_path / "fusion.pt")  # members travel inside the file
    assert config.kind == "fusion" and len(config.members) == 2 and "val" in meta["metrics"]
    x, mask = torch.from_numpy(test.frames[:4]), torch.from_numpy(test.mask[:4])
    assert torch.allclose(loaded(x, mask)["targets"], fused.eval()(x, mask)["targets"], atol=1e-6)


def test_fusion_refuses_members_of_different_embeddings():
    a = build_clip_model(_cfg("transformer", ORDER, ["emotion"]))
    b = build_clip_model(ClipConfig(schema=ENERGY.to_dict(), tasks=["targets"], input_dim=D + 1))
    with pytest.raises(ValueError, match="different frame embeddings"):
        fusion_from_members(a, b)


def _audio_visual(m: int = 240, seed: int = 0) -> ClipData:
    """Emotion is heard (a bright band low or high in the audio image), valence is seen (a level
    along a direction in the frames); a tenth of the clips have no audio."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, m)
    s = rng.uniform(-0.9, 0.9, m).astype(np.float32)
    w = rng.normal(size=D).astype(np.float32) * 1.5
    frames = rng.normal(size=(m, N, D)).astype(np.float32) + s[:, None, None] * w
    images = rng.normal(size=(m, AUDIO.rows, AUDIO.width)).astype(np.float32)
    images[np.arange(m), np.where(y == 0, 3, 12)] += 4.0
    valid = np.ones((m, AUDIO.width), bool)
    valid[:, 48:] = False  # padded columns
    images[:, :, 48:] = 0.0
    silent = rng.random(m) < 0.1
    labels = [{"emotion": ORDER.classes[c], "valence": float(v)} for c, v in zip(y, s)]
    audio = [None if silent[i] else images[i] for i in range(m)]
    return ClipData.from_arrays(list(frames), label_targets(labels, ORDER, ["emotion", "va"]),
                                audio=audio, audio_valid=[valid[i] for i in range(m)])


@pytest.mark.parametrize("kind", ["av_concat", "av_cross"])
def test_audio_visual_fusion_and_modality_ablation(kind):
    data = _audio_visual()
    train, test = split(data, 180)
    assert not test.audio_valid[~test.audio_valid.any(1)].any()  # clips without audio are all masked
    model = build_clip_model(_cfg(kind, ORDER, ["emotion", "va"], audio=AUDIO.to_dict()))
    model, _ = train_clip_model(model, train, options=ClipTrainOptions(epochs=25, batch_size=32, threads=1))
    m = evaluate_modalities(model, test)
    assert set(m) == {"fused", "visual", "audio"}
    heard = test.audio_valid.any(1)
    assert m["fused"]["emotion_accuracy"] >= 0.8 and m["fused"]["valence_ccc"] > 0.7
    assert m["audio"]["emotion_accuracy"] >= 0.8 and m["audio"]["valence_ccc"] < 0.5
    assert m["visual"]["emotion_accuracy"] < 0.7 and m["visual"]["valence_ccc"] > 0.7
    assert heard.mean() > 0.8 and model.modality == "fused"


def test_audio_only_model_and_checkpoint_keeps_audio_params(tmp_path):
    model = build_clip_model(_cfg("audio", ORDER, ["emotion"], audio=AUDIO.to_dict()))
    path = save_clip_model(tmp_path / "audio.pt", model)
    _, config, _ = load_clip_model(path)
    assert AudioParams.from_dict(config.audio) == AUDIO
    with pytest.raises(ValueError, match="audio params"):
        _cfg("av_cross", ORDER, ["emotion"])
