"""Model heads from a LabelSchema: emotion modes, dominance, named targets inside their ranges."""
from __future__ import annotations

import pytest
import torch

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, fiv2_schema
from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.config import ModelConfig, schema_heads
from core.model.net import build_model
from core.model.prior import head_flags
from core.train_config import tasks_for_schema


def test_emotic_heads_multi_label_with_dominance():
    cfg = ModelConfig(input_size=32, widths=[8, 16], **schema_heads(emotic_schema()))
    assert cfg.emotion_mode == "multi" and cfg.multi_label and cfg.dominance
    assert cfg.label_schema == emotic_schema().to_dict() and cfg.class_thresholds() == [0.5] * 26
    out = build_model(cfg).eval()(torch.randn(3, 1, 32, 32))
    assert out["emotion"].shape == (3, 26) and out["dominance"].shape == (3, 1)
    probs = build_model(cfg).emotion_probs(out["emotion"])
    torch.testing.assert_close(probs, torch.sigmoid(out["emotion"]))


def test_named_targets_stay_inside_their_ranges():
    schema = LabelSchema(targets=(TargetSpec("openness"), TargetSpec("sentiment", -3.0, 3.0)), stress=False)
    model = build_model(ModelConfig(input_size=32, widths=[8, 16], **schema_heads(schema))).eval()
    with torch.no_grad():
        model.extra_heads["sentiment"].fc.bias.fill_(50.0)  # saturates high
        model.extra_heads["openness"].fc.bias.fill_(-50.0)  # saturates low
        out = model(torch.randn(2, 1, 32, 32))
    torch.testing.assert_close(out["sentiment"], torch.full((2, 1), 3.0))
    torch.testing.assert_close(out["openness"], torch.zeros(2, 1))
    fresh = build_model(model.config).eval()(torch.randn(2, 1, 32, 32))
    torch.testing.assert_close(fresh["sentiment"], torch.zeros(2, 1))  # zero-init: the range middle
    assert "dominance" not in fresh


def test_config_round_trip_and_legacy_flags(tmp_path):
    cfg = ModelConfig(input_size=32, widths=[8, 16], thresholds={"Happy": 0.3},
                      trained={"emotion": True, "extraversion": True}, **schema_heads(fiv2_schema()))
    path = save_checkpoint(tmp_path / "m.pt", build_model(cfg))
    model, loaded, _ = load_checkpoint(path)
    assert loaded == cfg and loaded.named_targets == list(fiv2_schema().targets[i].name for i in range(6))
    assert loaded.class_thresholds()[0] == 0.3 and loaded.class_thresholds()[1] == 0.5
    flags = head_flags(loaded)
    assert flags["extraversion"] == "trained" and flags["interview"] == "untrained" and "dominance" not in flags
    assert ModelConfig(multi_label=True).emotion_mode == "multi"  # a checkpoint from before modes
    assert "dominance_head.fc.weight" not in build_model(ModelConfig()).state_dict()  # old keys kept
    with pytest.raises(ValueError, match="emotion_mode"):
        ModelConfig(emotion_mode="several")
    with pytest.raises(ValueError, match="target range"):
        ModelConfig(extra_targets=["x"], target_ranges={"x": [1.0, 0.0]})


def test_tasks_for_schema():
    assert tasks_for_schema(emotic_schema()) == ["emotion", "va", "dominance"]
    assert tasks_for_schema(fiv2_schema()) == ["emotion", "va", "targets"]
    assert tasks_for_schema(LabelSchema()) == ["emotion", "va", "stress"]
