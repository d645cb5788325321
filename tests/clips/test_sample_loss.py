"""core.clips.sample_loss: per-clip losses per emotion mode and task (hand-computed), ordering."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.clips.sample_loss import clip_sample_losses, order_by_loss, prediction_arrays
from core.inference.prediction import FacePrediction
from core.label_schema import LabelSchema, TargetSpec

NAN = float("nan")


def _pred(probs: list[float], va=(0.0, 0.0), stress=0.5, dominance=None, targets=None) -> dict[str, np.ndarray]:
    return {"probs": np.array([probs]), "va": np.array([va], float), "stress": np.array([stress]),
            "dominance": np.array([NAN if dominance is None else dominance]),
            "targets": np.array([list((targets or {}).values())], float).reshape(1, len(targets or {}))}


def test_single_label_cross_entropy_plus_va_squared_error():
    schema = LabelSchema(classes=("a", "b"))
    pred = {"probs": np.array([[0.8, 0.2], [0.25, 0.75], [0.5, 0.5], [0.5, 0.5]]),
            "va": np.array([[0.5, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])}
    targets = {"emotion": np.array([0, 0, -1, 1]),
               "va": np.array([[0.1, NAN], [NAN, NAN], [NAN, NAN], [0.2, -0.4]])}
    loss = clip_sample_losses(pred, targets, schema, ["emotion", "va"])
    # -ln .8 + .4^2 | -ln .25 (no V/A label) | nothing labelled | ln 2 + (.2^2 + .4^2) / 2
    assert loss[0] == pytest.approx(-math.log(0.8) + 0.16)
    assert loss[1] == pytest.approx(math.log(4))
    assert math.isnan(loss[2])
    assert loss[3] == pytest.approx(math.log(2) + 0.1)
    assert np.isnan(clip_sample_losses(pred, targets, schema, ["va"])[1])  # only V/A trained, none labelled


def test_distribution_kl_multi_label_bce_stress_dominance_and_targets():
    dist = LabelSchema(classes=("a", "b"), emotion_mode="distribution")
    kl = clip_sample_losses(_pred([0.5, 0.5]), {"emotion": np.array([[3.0, 1.0]])}, dist, ["emotion"])
    assert kl[0] == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))  # the label normalised first
    multi = LabelSchema(classes=("a", "b"), emotion_mode="multi")
    bce = clip_sample_losses(_pred([0.9, 0.2]), {"emotion": np.array([[1.0, 0.0]])}, multi, ["emotion"])
    assert bce[0] == pytest.approx((-math.log(0.9) - math.log(0.8)) / 2)
    rich = LabelSchema(classes=("a", "b"), dominance=True, targets=(TargetSpec("x", 0, 10),))
    pred = _pred([0.5, 0.5], stress=0.25, dominance=0.5, targets={"x": 7.0})
    y = {"stress": np.array([[1.0]]), "dominance": np.array([[-0.5]]), "targets": np.array([[5.0]])}
    assert clip_sample_losses(pred, y, rich, ["stress"])[0] == pytest.approx(math.log(4))
    assert clip_sample_losses(pred, y, rich, ["dominance"])[0] == pytest.approx(1.0)
    assert clip_sample_losses(pred, y, rich, ["targets"])[0] == pytest.approx(0.04)  # (2 / 10)^2
    assert clip_sample_losses(pred, y, rich, ["stress", "dominance", "targets"])[0] == pytest.approx(
        math.log(4) + 1.04)
    with pytest.raises(ValueError, match="unknown clip task"):
        clip_sample_losses(pred, {"pose": np.zeros((1, 1))}, rich, ["pose"])


def test_prediction_arrays_follow_the_schema_order():
    schema = LabelSchema(classes=("a", "b"), targets=(TargetSpec("x", 0, 1), TargetSpec("y", 0, 1)))
    p = FacePrediction(probs={"b": 0.7, "a": 0.3}, emotion="b", confidence=0.7, valence=0.1, arousal=-0.2,
                       stress=0.4, flags={}, targets={"y": 0.9})
    a = prediction_arrays([p], schema)
    assert a["probs"].tolist() == [[0.3, 0.7]] and a["va"].tolist() == [[0.1, -0.2]]
    assert np.isnan(a["dominance"][0]) and np.isnan(a["targets"][0, 0]) and a["targets"][0, 1] == 0.9


def test_order_by_loss_best_and_worst_without_unlabelled_clips():
    ids, losses = [10, 11, 12, 13, 14], [0.38, 1.39, None, 0.79, NAN]
    assert order_by_loss(ids, losses, "worst") == [11, 13, 10]
    assert order_by_loss(ids, losses, "best") == [10, 13, 11]
    assert order_by_loss([5, 3, 4], [1.0, 1.0, 0.5], "worst") == [3, 5, 4]  # ties: lower id first
    with pytest.raises(ValueError, match="unknown order"):
        order_by_loss(ids, losses, "random")
