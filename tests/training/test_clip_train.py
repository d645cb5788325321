"""Clip training data and losses: label dicts -> per-task targets, masked losses per emotion mode."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, mosei_schema
from training.clip_data import ClipData, label_targets
from training.clip_metrics import task_metrics
from training.clip_train import clip_task_losses


def test_label_targets_for_every_field_and_mode():
    single = LabelSchema(classes=("a", "b"), targets=(TargetSpec("x", 0, 1),))
    labels = [{"emotion": "b", "valence": 0.5, "arousal": -0.2, "stress": 0.3, "targets": {"x": 0.7}},
              {"emotion": None}]
    t = label_targets(labels, single, ["emotion", "va", "stress", "targets"])
    assert t["emotion"].tolist() == [1, -1]
    assert np.allclose(t["va"][0], [0.5, -0.2]) and np.isnan(t["va"][1]).all()
    assert np.isnan(t["stress"][1, 0]) and t["targets"].tolist()[0] == pytest.approx([0.7])
    multi = label_targets([{"emotions": ["Fear", "Anger"]}, {"emotions": []}, {}], emotic_schema(), ["emotion"])
    assert multi["emotion"].shape == (3, 26) and multi["emotion"][0].sum() == 2
    assert multi["emotion"][1].sum() == 0 and np.isnan(multi["emotion"][2]).all()  # [] = none, missing = NaN
    dist = label_targets([{"distribution": {"Happy": 3, "Sad": 1}}], mosei_schema(), ["emotion"])
    assert dist["emotion"][0, 0] == pytest.approx(0.75) and dist["emotion"][0, 1] == pytest.approx(0.25)


def test_from_arrays_masks_nan_rows_and_pads_short_clips():
    a = np.ones((4, 3), np.float16)
    a[1] = np.nan
    data = ClipData.from_arrays([a, np.ones((6, 3))], {"emotion": np.array([0, 1])}, frames=6,
                                audio=[None, np.ones((2, 8))])
    assert data.mask.tolist() == [[True, False, True, True, False, False], [True] * 6]
    assert not np.isnan(data.frames).any() and data.frames[0, 1].sum() == 0
    assert data.audio_valid.tolist() == [[False] * 8, [True] * 8]


@pytest.mark.parametrize("schema, y, good, bad", [
    (LabelSchema(classes=("a", "b")), torch.tensor([0, -1]), [[5.0, -5.0]], [[-5.0, 5.0]]),
    (mosei_schema(), torch.tensor([[1.0, 0, 0, 0, 0, 0], [float("nan")] * 6]),
     [[5.0, -5, -5, -5, -5, -5]], [[-5.0, 5, -5, -5, -5, -5]]),
    (emotic_schema(), torch.cat([torch.eye(26)[:1], torch.full((1, 26), float("nan"))]),
     [[5.0] + [-5.0] * 25], [[-5.0] + [5.0] * 25]),
])
def test_emotion_loss_per_mode_ignores_unlabelled_clips(schema, y, good, bad):
    def loss(row):
        logits = torch.tensor(row + [[0.0] * len(schema.classes)])  # 2nd clip: anything, unlabelled
        return clip_task_losses({"emotion": logits}, {"emotion": y}, schema, ["emotion"])["emotion"]
    (lg, n), (lb, _) = loss(good), loss(bad)
    labelled = len(schema.classes) if schema.emotion_mode == "multi" else 1  # multi counts each class
    assert int(n) == labelled and float(lg) < float(lb)


def test_regression_losses_and_metrics():
    schema = LabelSchema(classes=("a", "b"), dominance=True, targets=(TargetSpec("x", -3, 3),))
    y = {"va": torch.tensor([[0.5, 0.1], [-0.5, -0.1], [float("nan")] * 2]),
         "dominance": torch.tensor([[0.2], [-0.2], [0.0]]),
         "targets": torch.tensor([[1.0], [2.0], [float("nan")]])}
    perfect = {"va": y["va"].nan_to_num(), "dominance": y["dominance"], "targets": y["targets"].nan_to_num()}
    losses = clip_task_losses(perfect, y, schema, ["va", "dominance", "targets"])
    assert all(float(v[0]) == pytest.approx(0.0, abs=1e-5) for v in losses.values())
    metrics = task_metrics({k: v.numpy() for k, v in perfect.items()}, {k: v.numpy() for k, v in y.items()},
                           schema, ["va", "dominance", "targets"])
    assert metrics["valence_ccc"] == pytest.approx(1.0) and metrics["targets_mse"] == 0.0
