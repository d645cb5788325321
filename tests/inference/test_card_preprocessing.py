"""A model card states the crop and resize every path uses, and an ONNX export keeps them."""
from __future__ import annotations

import json


def test_card_and_onnx_predictor_keep_the_preprocessing(default_onnx, default_ckpt):
    from core.inference import Predictor

    card = json.loads(open(default_onnx["card"]).read())
    assert card["input"]["native_size"] == 48 and "112x112 BGR" in card["input"]["crop"]
    assert "INTER_AREA to 48 px and to 64 px" in card["input"]["resize"]
    onnx_p, torch_p = Predictor(default_onnx["path"]), Predictor(default_ckpt, backend="torch")
    try:
        assert onnx_p.backend == "onnx" and onnx_p.config.native_size == torch_p.config.native_size == 48
    finally:
        onnx_p.close()
        torch_p.close()
