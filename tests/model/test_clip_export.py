"""Clip models to ONNX: parity with torch on ONNX Runtime, masked frames and missing audio included."""
from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from core.audio import AudioParams
from core.label_schema import mosei_schema
from core.model.clip_checkpoint import build_clip_model, save_clip_model
from core.model.clip_config import ClipConfig
from core.model.clip_export import ClipParityError, check_clip_parity, example_inputs, export_clip_model
from core.model.fusion import fusion_from_members
from tests.model.clip_synth import D, N

SCHEMA = mosei_schema()


def _cfg(kind: str, tasks: list[str], **kw) -> ClipConfig:
    return ClipConfig(kind=kind, schema=SCHEMA.to_dict(), tasks=tasks, frames=N, input_dim=D, d_model=32,
                      hidden=32, layers=1, **kw)


def _export(tmp_path, model) -> dict:
    path = save_clip_model(tmp_path / f"{model.config.kind}.pt", model)
    return export_clip_model(path)


def test_transformer_exports_with_parity_and_card(tmp_path):
    model = build_clip_model(_cfg("transformer", ["emotion", "targets"]))
    result = _export(tmp_path, model)
    assert result["parity"]["max_abs_diff"]["emotion"] < 1e-4
    card = json.loads((tmp_path / "transformer.onnx.json").read_text())
    assert card["inputs"] == ["frames", "frame_mask"] and card["outputs"] == ["emotion", "targets"]
    assert card["config"]["frames"] == N and card["config"]["schema"]["classes"] == list(SCHEMA.classes)
    session = ort.InferenceSession(result["path"], providers=["CPUExecutionProvider"])
    feed = example_inputs(model.config, 7)  # another batch size: the batch axis is dynamic
    emotion, targets = session.run(None, feed)
    assert emotion.shape == (7, 6) and targets.shape == (7, 1) and np.isfinite(emotion).all()
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["affectlab_clip_config"])["kind"] == "transformer"


def test_audio_visual_model_exports_with_missing_audio(tmp_path):
    model = build_clip_model(_cfg("av_cross", ["emotion", "va"], audio=AudioParams(width=64).to_dict()))
    result = _export(tmp_path, model)
    assert "without audio" in result["parity"]["inputs"]
    assert max(result["parity"]["max_abs_diff"].values()) < 1e-4


@pytest.mark.slow
def test_fusion_model_exports_with_parity(tmp_path):
    a = build_clip_model(_cfg("transformer", ["emotion"]))
    b = build_clip_model(_cfg("mean_mlp", ["targets"]))
    result = _export(tmp_path, fusion_from_members(a, b, d_model=32, hidden=32, layers=1))
    assert set(result["parity"]["max_abs_diff"]) == {"emotion", "targets"}


def test_parity_check_catches_a_different_model(tmp_path):
    model = build_clip_model(_cfg("mean_mlp", ["emotion"]))
    result = _export(tmp_path, model)
    other = build_clip_model(_cfg("mean_mlp", ["emotion"])).eval()  # other random weights
    with pytest.raises(ClipParityError, match="emotion"):
        check_clip_parity(result["path"], other, other.config)
