"""AffectNet heads and backbones, and ModelConfig serialisation."""
from __future__ import annotations

import json

import pytest
import torch

from core.model.config import ModelConfig
from core.model.net import BACKBONES, AffectNet, build_model


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_outputs_for_every_backbone(backbone):
    torch.manual_seed(0)
    cfg = ModelConfig.for_backbone(backbone, extra_targets=["pain", "fatigue"],
                                   width_mult=0.25 if backbone != "mini_xception" else 1.0)
    model = build_model(cfg).eval()
    assert isinstance(model, AffectNet)
    x = torch.randn(2, cfg.channels, cfg.input_size, cfg.input_size)
    with torch.no_grad():
        out = model(x)
    assert set(out) == {"emotion", "va", "stress", "pain", "fatigue"}
    assert out["emotion"].shape == (2, 8)
    assert out["va"].shape == (2, 2) and out["va"].abs().max() <= 1
    assert out["stress"].shape == (2, 1) and ((out["stress"] >= 0) & (out["stress"] <= 1)).all()
    assert out["pain"].shape == (2, 1)


def test_untrained_regression_heads_start_neutral():
    model = build_model(ModelConfig()).eval()
    out = model(torch.randn(3, 1, 64, 64))
    assert torch.all(out["va"] == 0) and torch.all(out["stress"] == 0.5)


def test_backprop_reaches_every_head():
    model = build_model(ModelConfig(classes=["a", "b", "c"], extra_targets=["pain"]))
    out = model(torch.randn(4, 1, 64, 64))
    sum(v.float().sum() for v in out.values()).backward()
    for name in ("va_head.fc.weight", "stress_head.fc.weight", "extra_heads.pain.fc.weight",
                 "emotion_head.conv.weight", "backbone.conv1.weight"):
        assert model.get_parameter(name).grad.abs().sum() > 0, name


def test_multi_label_probs_are_sigmoids():
    model = build_model(ModelConfig(multi_label=True))
    logits = torch.tensor([[0.0, 2.0, -2.0, 0, 0, 0, 0, 0]])
    torch.testing.assert_close(model.emotion_probs(logits), torch.sigmoid(logits))


def test_config_round_trip_is_plain_json():
    cfg = ModelConfig.for_backbone("resnet18", classes=["x", "y"], extra_targets=["pain"],
                                   trained={"emotion": True}, widths=[8, 16, 32, 64])
    d = cfg.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert ModelConfig.from_dict(d) == cfg
    assert cfg.trained == {"emotion": True, "va": False, "stress": False}
    with pytest.warns(UserWarning, match="unknown keys"):
        assert ModelConfig.from_dict({**d, "future_field": 1}) == cfg


def test_config_validation():
    with pytest.raises(ValueError):
        ModelConfig(channels=3)  # mean/std still one value
    with pytest.raises(ValueError):
        ModelConfig(classes=["a", "a"])
    with pytest.raises(KeyError):
        ModelConfig.for_backbone("vit")
    with pytest.raises(KeyError):
        build_model(ModelConfig(backbone="vit"))
