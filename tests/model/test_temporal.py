"""Temporal models over frame embeddings: heads from the label schema, padding mask, what time buys."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, mosei_schema
from core.model.clip_checkpoint import build_clip_model, load_clip_model, save_clip_model
from core.model.clip_config import ClipConfig
from tests.model.clip_synth import ORDER, D, N, order_clips, split
from training.clip_train import ClipTrainOptions, evaluate_clips, train_clip_model


def _config(kind: str = "transformer", **kw) -> ClipConfig:
    base = {"kind": kind, "schema": ORDER.to_dict(), "tasks": ["emotion", "va"], "frames": N,
            "input_dim": D, "d_model": 32, "hidden": 64, "layers": 1}
    return ClipConfig(**(base | kw))


def test_transformer_learns_order_that_mean_pooling_cannot_see():
    data, _ = order_clips()
    train, test = split(data, 160)
    scores = {}
    for kind in ("transformer", "mean_mlp"):
        model = build_clip_model(_config(kind))
        model, history = train_clip_model(model, train, options=ClipTrainOptions(epochs=20, batch_size=32, threads=1))
        scores[kind] = evaluate_clips(model, test)
        assert history[-1]["loss"] < history[0]["loss"] or kind == "mean_mlp"
    assert scores["transformer"]["emotion_accuracy"] >= 0.9  # chance: 0.5
    assert scores["transformer"]["valence_ccc"] > 0.7
    assert scores["mean_mlp"]["emotion_accuracy"] < 0.7  # no order, no signal


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_masked_frames_do_not_change_the_output(pooling):
    model = build_clip_model(_config(pooling=pooling)).eval()
    x = torch.randn(3, N, D)
    mask = torch.rand(3, N) > 0.4
    mask[2] = False  # a clip with no face at all still gets a finite answer
    y = x.clone()
    y[~mask] = torch.randn(int((~mask).sum()), D) * 100
    a, b = model(x, mask), model(y, mask)
    for task in a:
        assert torch.isfinite(a[task]).all()
        assert torch.allclose(a[task], b[task], atol=1e-5)


@pytest.mark.parametrize("schema, tasks, dims", [
    (mosei_schema(), ["emotion", "targets"], {"emotion": 6, "targets": 1}),
    (emotic_schema(), ["emotion", "va", "dominance"], {"emotion": 26, "va": 2, "dominance": 1}),
    (LabelSchema(classes=("a", "b", "c"), targets=(TargetSpec("x"), TargetSpec("y", -3, 3))),
     ["emotion", "va", "stress", "targets"], {"emotion": 3, "va": 2, "stress": 1, "targets": 2}),
])
@pytest.mark.parametrize("kind", ["transformer", "mean_mlp"])
def test_heads_follow_the_schema(schema, tasks, dims, kind):
    model = build_clip_model(_config(kind, schema=schema.to_dict(), tasks=tasks))
    out = model(torch.randn(2, N, D), torch.ones(2, N, dtype=torch.bool))
    assert {k: v.shape[1] for k, v in out.items()} == dims
    if "va" in out:
        assert out["va"].abs().max() <= 1
    if "stress" in out:
        assert ((out["stress"] >= 0) & (out["stress"] <= 1)).all()


def test_config_refuses_tasks_the_schema_lacks_and_longer_sequences():
    with pytest.raises(ValueError, match="targets"):
        _config(tasks=["emotion", "targets"])  # ORDER declares no named target
    model = build_clip_model(_config())
    with pytest.raises(ValueError, match="at most 16"):
        model(torch.randn(1, N + 1, D), torch.ones(1, N + 1, dtype=torch.bool))


def test_checkpoint_is_self_describing(tmp_path):
    config = _config(sampling={"mode": "even", "frames": 16, "fps": None, "max_frames": None},
                     embedder="fer_mini_xception@0123456789ab")
    model = build_clip_model(config).eval()
    path = save_clip_model(tmp_path / "clip.pt", model, metrics={"val": {"emotion_accuracy": np.float64(0.5)}})
    loaded, cfg, meta = load_clip_model(path)
    assert cfg == config and cfg.label_schema == ORDER and cfg.frames == 16
    assert meta["metrics"]["val"]["emotion_accuracy"] == 0.5
    x, mask = torch.randn(2, N, D), torch.ones(2, N, dtype=torch.bool)
    assert torch.equal(model(x, mask)["emotion"], loaded(x, mask)["emotion"])
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.pt"):
        load_clip_model(tmp_path / "junk.pt")
