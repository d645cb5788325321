"""export_model: ONNX and TorchScript parity on real faces, the model card, failures."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.taxonomy import AFFECTNET8

TOL = 1e-4


def test_onnx_parity_on_real_faces(default_onnx):
    import onnx

    parity = default_onnx["parity"]
    print(f"default ONNX parity: {parity['max_abs_diff']}")
    assert parity["n_faces"] >= 16  # real aligned crops (8 photos + 6 video frames) + mirrors
    assert parity["max_abs_diff_all"] <= TOL and parity["top_class_agree"]
    assert parity["batch_sizes"][0] == parity["n_faces"] and 1 in parity["batch_sizes"]
    path = default_onnx["path"]
    onnx.checker.check_model(onnx.load(path), full_check=True)
    assert not list(Path(path).parent.glob("*.data"))  # one file, no external data
    proto = onnx.load(path)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [1, 64, 64]  # dynamic batch
    assert default_onnx["opset"] == 18


def test_onnx_parity_random_resnet18(tiny_ckpt):
    from core.export_model import export_model

    result = export_model(tiny_ckpt, "onnx")
    print(f"resnet18 (width 0.25) ONNX parity: {result['parity']['max_abs_diff']}")
    assert result["parity"]["max_abs_diff_all"] <= TOL
    card = json.loads(open(result["card"]).read())
    assert card["input"]["size"] == 112 and card["input"]["channels"] == 3
    assert card["input"]["color"] == "RGB" and card["input"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert card["metrics"] == {"val": {"macro_f1": 0.25}}
    assert card["training_data"] == {"dataset": "demo", "samples": 40}
    assert card["flags"] == {"emotion": "untrained", "va": "prior", "stress": "prior"}


def test_torchscript_parity(default_ts):
    from core.inference.backends import load_torchscript

    parity = default_ts["parity"]
    print(f"default TorchScript parity: {parity['max_abs_diff']}")
    assert default_ts["path"].endswith(".ts.pt") and parity["max_abs_diff_all"] <= TOL
    out = load_torchscript(default_ts["path"])(np.zeros((3, 1, 64, 64), np.float32))
    assert {k: v.shape for k, v in out.items()} == {"emotion": (3, 8), "va": (3, 2), "stress": (3, 1)}


def test_model_card_content(default_onnx, default_ckpt):
    from core.inference.card import file_sha256, read_card

    card = read_card(default_onnx["path"])
    assert default_onnx["card"].endswith(".onnx.json")
    assert card["classes"] == list(AFFECTNET8) and card["backbone"] == "mini_xception"
    want = {"size": 64, "channels": 1, "color": "gray", "mean": [0.5], "std": [0.5],
            "layout": "NCHW", "shape": ["batch", 1, 64, 64]}
    assert {k: card["input"][k] for k in want} == want
    assert card["output_order"] == ["emotion", "va", "stress"]
    assert card["outputs"]["emotion"]["kind"] == "logits" and card["outputs"]["emotion"]["to_probs"] == "softmax"
    assert card["trained"] == {"emotion": True, "va": False, "stress": False}
    assert card["flags"] == {"emotion": "trained", "va": "prior", "stress": "prior"}
    assert card["prior"]["heads"] == ["va", "stress"]
    assert card["prior"]["va_table"]["Happy"][0] > 0.5 and card["prior"]["stress_table"]["Anger"] == 1.0
    assert card["metrics"] == {"note": "converted, not evaluated here"}
    assert card["parity"]["max_abs_diff_all"] <= TOL and card["opset"] == 18
    assert card["checkpoint"]["sha256"] == file_sha256(default_ckpt)
    assert card["artifact_sha256"] == file_sha256(default_onnx["path"])
    assert card["created_at"] and card["versions"]["onnxruntime"]
    assert "fer2013" in card["source"]


def test_parity_failure_raises(default_ckpt):
    import torch

    from core.export_model import ParityError, check_parity
    from core.inference.backends import TorchRunner
    from core.model.checkpoint import load_checkpoint

    model, config, _ = load_checkpoint(default_ckpt)
    good = TorchRunner(model)

    def off(x):  # an "export" whose logits drift by 1e-3
        out = good(x)
        out["emotion"] = out["emotion"] + 1e-3
        return out

    x = torch.randn(4, 1, 64, 64)
    assert check_parity(good, model, config, x)["max_abs_diff_all"] == 0.0
    with pytest.raises(ParityError, match="emotion"):
        check_parity(off, model, config, x)


def test_unknown_format(default_ckpt):
    from core.export_model import export_model

    with pytest.raises(ValueError, match="format"):
        export_model(default_ckpt, "tflite")
