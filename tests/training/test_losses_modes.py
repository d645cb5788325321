"""Losses and training rows for the richer label modes: multi-label BCE with positive weights,
KL, dominance and named targets with masks; rows loaded per schema."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.label_schema import LabelSchema, TargetSpec
from training import losses as L
from training.setup import positive_weights

NAN = math.nan


def test_multilabel_bce_masks_rows_and_weighs_positives():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 1.0, -2.0], [3.0, 3.0, 3.0]])
    y = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [NAN, NAN, NAN]])
    loss, n = L.multilabel_bce(logits, y)
    ref = F.binary_cross_entropy_with_logits(logits[:2], y[:2])
    assert int(n) == 2 and loss.item() == pytest.approx(ref.item())
    pw = torch.tensor([2.0, 1.0, 3.0])
    loss_w, _ = L.multilabel_bce(logits, y, pos_weight=pw)
    assert loss_w.item() == pytest.approx(F.binary_cross_entropy_with_logits(logits[:2], y[:2], pos_weight=pw).item())
    assert positive_weights(np.array([[1, 0, 1], [0, 0, 1], [0, 0, 1], [NAN, NAN, NAN]])).tolist() == [2.0, 1.0, 1.0]


def test_multitask_loss_per_mode_and_targets_on_unit_ranges():
    ranges = {"openness": [0.0, 1.0], "sentiment": [-3.0, 3.0]}
    crit = L.MultiTaskLoss(tasks=["emotion", "dominance", "targets"], emotion_mode="multi",
                           target_ranges=ranges, va_loss="mse", target_loss="mse")
    logits = torch.zeros(2, 3, requires_grad=True)
    out = {"emotion": logits, "va": torch.zeros(2, 2), "stress": torch.full((2, 1), 0.5),
           "dominance": torch.tensor([[0.5], [0.0]]),
           "openness": torch.tensor([[0.5], [0.2]]), "sentiment": torch.tensor([[0.0], [3.0]])}
    targets = {"emotion": torch.tensor([[1.0, 0, 0], [NAN, NAN, NAN]]),
               "dominance": torch.tensor([[0.0], [NAN]]),
               "targets": torch.tensor([[1.0, 3.0], [NAN, 0.0]])}
    total, parts = crit(out, targets)
    assert parts["emotion"].item() == pytest.approx(math.log(2))  # sigmoid(0) vs 0/1
    assert parts["dominance"].item() == pytest.approx(0.25)
    # unit-scaled errors: openness 0.5 (row 0); sentiment 0.5 (row 0), 0.5 (row 1)
    assert parts["targets"].item() == pytest.approx(0.25)
    assert total.item() == pytest.approx(math.log(2) + 0.5 * 0.25 + 1.0 * 0.25)
    total.backward()
    assert logits.grad[1].abs().sum() == 0  # the unlabelled row adds nothing
    dist = L.MultiTaskLoss(tasks=["emotion"], emotion_mode="distribution")
    _, p = dist({"emotion": torch.zeros(1, 2)}, {"emotion": torch.tensor([[1.0, 0.0]])})
    assert p["emotion"].item() == pytest.approx(math.log(2))  # KL(one-hot || uniform)


def test_uncertainty_weighting_covers_the_new_heads():
    crit = L.MultiTaskLoss(tasks=["dominance", "targets"], uncertainty=True,
                           target_ranges={"t": [0.0, 1.0]}, target_loss="mse")
    assert set(crit.log_vars) == {"dominance", "targets"}
    out = {"dominance": torch.zeros(2, 1), "t": torch.zeros(2, 1)}
    total, parts = crit(out, {"dominance": torch.tensor([[0.5], [0.5]]), "targets": torch.tensor([[1.0], [NAN]])})
    expected = 0.5 * parts["dominance"].item() + 0.5 * parts["targets"].item()  # exp(-0) = 1
    assert total.item() == pytest.approx(expected)


def test_rows_per_schema_keep_masks(env):
    from core.ingest.commit import commit_samples
    from core.ingest.records import PendingSample
    from core.jobs.preflight import NO_SPLIT, check_launch, counts_table, labelled_counts
    from core.store.datasets import get_or_create_dataset
    from core.store.db import read_session, write_session
    from training.data import load_rows

    multi = LabelSchema(classes=("a", "b"), emotion_mode="multi", dominance=True, stress=False,
                        targets=(TargetSpec("t", -1.0, 1.0),))
    dist = LabelSchema(classes=("a", "b"), emotion_mode="distribution", stress=False)
    labels = {"m": [{"emotions": ["b"], "dominance": 0.5, "targets": {"t": -0.5}}, {"emotions": []}, {}],
              "d": [{"distribution": {"a": 0.25, "b": 0.75}}, {"distribution": {}}, {}]}
    with write_session() as s, s.begin():
        for name, schema in (("m", multi), ("d", dist)):
            ds = get_or_create_dataset(s, name, schema=schema)
            commit_samples(s, ds, [PendingSample(crop_sha256=f"{name}{i}", crop_path=f"crops/{name}{i}.png",
                                                 source_path=f"{i}.png", **lab)
                                   for i, lab in enumerate(labels[name])], rules=None)
        ids = {name: get_or_create_dataset(s, name).id for name in labels}
    with read_session() as s:
        m = load_rows(s, ids["m"], None, ["a", "b"], schema=multi)
        d = load_rows(s, ids["d"], None, ["a", "b"], schema=dist)
        counts = labelled_counts(s, ids["m"])
    assert counts == {NO_SPLIT: {"samples": 3, "emotion": 2, "va": 0, "stress": 0, "dominance": 1, "targets": 1}}
    assert check_launch(counts, train_split=None, val_split=None, tasks=["emotion", "dominance", "targets"]) == {
        "errors": [], "warnings": []}
    assert counts_table(counts)[0]["named targets"] == 1
    np.testing.assert_array_equal(m.emotions, [[0, 1], [0, 0], [NAN, NAN]])  # [] = none, not missing
    np.testing.assert_array_equal(m.dominance, [0.5, NAN, NAN])
    np.testing.assert_array_equal(m.targets, [[-0.5], [NAN], [NAN]])
    assert m.labelled() == {"emotion": True, "va": False, "stress": False, "dominance": True, "targets": True}
    assert m.trained_heads(["emotion", "targets"]) == {"emotion": True, "va": False, "stress": False,
                                                        "dominance": False, "t": True}
    np.testing.assert_array_equal(d.distribution, [[0.25, 0.75], [NAN, NAN], [NAN, NAN]])  # {}: nothing to match
    assert d.emotion.tolist() == [1, -1, -1] and d.emotion_target() is d.distribution
