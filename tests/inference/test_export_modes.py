"""ONNX export and prediction for the issue-12 heads: multi-label, dominance, named targets."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.label_schema import LabelSchema, TargetSpec
from core.model.checkpoint import save_checkpoint
from core.model.config import ModelConfig, schema_heads
from core.model.net import build_model

SCHEMA = LabelSchema(classes=("Joy", "Fear", "Pain"), emotion_mode="multi", dominance=True,
                     stress=False, targets=(TargetSpec("openness"), TargetSpec("sentiment", -3.0, 3.0)))


@pytest.fixture
def rich_ckpt(tmp_path):
    torch.manual_seed(0)
    config = ModelConfig.for_backbone("mini_xception", input_size=32, widths=[8, 16, 32],
                                      thresholds={"Joy": 0.3, "Fear": 0.6, "Pain": 0.5},
                                      trained={"emotion": True, "dominance": True, "openness": True},
                                      **schema_heads(SCHEMA))
    model = build_model(config).eval()
    with torch.no_grad():  # regression heads start at zero: give every head a real signal
        for name, p in model.named_parameters():
            if "_head" in name or "extra_heads" in name:
                p.normal_(0, 0.5)
    return save_checkpoint(tmp_path / "run-1" / "best.pt", model)


def _crops(n: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (48, 48, 3), dtype=np.uint8) for _ in range(n)]


def test_onnx_export_keeps_the_new_heads_in_parity(rich_ckpt):
    from core.export_model import export_model
    from core.inference.predictor import Predictor

    result = export_model(rich_ckpt, "onnx", crops=_crops())
    diffs = result["parity"]["max_abs_diff"]
    assert {"dominance", "openness", "sentiment"} <= set(diffs)
    assert result["parity"]["max_abs_diff_all"] <= 1e-4
    card = json.loads(Path(result["card"]).read_text())
    assert card["output_order"] == ["emotion", "va", "stress", "dominance", "openness", "sentiment"]
    assert card["outputs"]["dominance"]["range"] == [-1.0, 1.0]
    assert card["outputs"]["sentiment"]["range"] == [-3.0, 3.0]
    assert card["outputs"]["emotion"]["thresholds"] == {"Joy": 0.3, "Fear": 0.6, "Pain": 0.5}
    onnx_preds = Predictor(result["path"]).predict_crops(_crops())
    torch_preds = Predictor(rich_ckpt, backend="torch").predict_crops(_crops())
    for a, b in zip(onnx_preds, torch_preds, strict=True):
        assert a.emotions == b.emotions and a.mode == "multi"
        assert a.dominance == pytest.approx(b.dominance, abs=1e-4) and -1 <= a.dominance <= 1
        assert a.targets == pytest.approx(b.targets, abs=1e-4)
        assert 0 <= a.targets["openness"] <= 1 and -3 <= a.targets["sentiment"] <= 3
        assert a.flags == {"emotion": "trained", "va": "prior", "stress": "prior",
                           "dominance": "trained", "openness": "trained", "sentiment": "untrained"}
        d = a.to_dict()
        assert d["emotions"] == [c for c in SCHEMA.classes if d["probs"][c] >= {"Joy": 0.3, "Fear": 0.6,
                                                                                  "Pain": 0.5}[c]]
        assert set(d["targets"]) == {"openness", "sentiment"} and "extra" not in d


def test_predict_paths_lists_categories_above_thresholds(rich_ckpt, tmp_path):
    import shutil

    from core.inference.predictor import Predictor
    from core.predict import predict_paths
    from tests.inference.conftest import cached_asset

    shutil.copy(cached_asset("single_face.jpg"), tmp_path / "face.jpg")
    result = predict_paths(tmp_path / "face.jpg", Predictor(rich_ckpt, backend="torch"))
    assert result["emotion_mode"] == "multi" and result["thresholds"] == {"Joy": 0.3, "Fear": 0.6, "Pain": 0.5}
    face = result["files"][0]["faces"][0]
    assert face["emotions"] == [c for c in SCHEMA.classes if face["probs"][c] >= result["thresholds"][c]]
    assert -1 <= face["dominance"] <= 1 and set(face["targets"]) == {"openness", "sentiment"}
    assert result["flags"]["openness"] == "trained"


def test_prelabel_stores_the_new_heads_outputs(env, rich_ckpt, read):
    from sqlalchemy import select

    from core.prelabel import prelabel
    from core.store.models import Prediction
    from tests.training.modes_data import multi_label_dataset

    result = prelabel(multi_label_dataset(n=5), model=rich_ckpt, only_unlabelled=False, backend="torch")
    assert result["predicted"] == 5
    with read() as s:
        outputs = [p.outputs for p in s.scalars(select(Prediction))]
    assert set(outputs[0]) == {"emotions", "thresholds", "dominance", "targets"}
    assert outputs[0]["thresholds"] == {"Joy": 0.3, "Fear": 0.6, "Pain": 0.5}
