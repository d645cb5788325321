"""core.label_issues: cross-validated out-of-sample predictions and cleanlab rankings find injected
label errors (single-label, multi-label, V/A) far above chance on small generated sets."""
from __future__ import annotations

import numpy as np
import pytest

from core import label_issues as li
from tests import label_quality_data as gen


def test_single_label_cross_validated_issues_find_injected_flips():
    d = gen.classes(n=300, k=4, n_videos=40, seed=3)  # 10% of labels flipped
    probs = li.cross_val_pred_probs(d.features, d.given, n_classes=4, groups=d.groups, seed=0)
    assert probs.shape == (300, 4) and np.allclose(probs.sum(1), 1)
    issues = li.single_label_issues(d.given, probs)
    m = gen.precision_recall(issues.order, issues.flagged, d.wrong)
    assert m["chance"] == pytest.approx(0.1)
    assert m["precision_top"] >= 0.8  # top 5%: 8x chance
    assert m["recall_top_noise_rate"] >= 0.7 and m["recall_flagged"] >= 0.6
    assert m["precision_flagged"] >= 0.6
    assert not d.wrong[issues.order[-30:]].any()  # the best-scored labels are clean


def test_grouped_folds_keep_a_video_out_of_its_own_training_fold():
    d = gen.classes(n=120, k=3, n_videos=12, seed=1)
    for train, test in li._folds(d.given, d.groups, len(d.given), 5, 0):
        assert not set(d.groups[train]) & set(d.groups[test])


def test_a_class_missing_from_a_training_fold_gets_probability_zero():
    x = np.arange(12, dtype=float)[:, None]
    labels = np.array([0] * 5 + [1] * 6 + [2])  # class 2 once: absent from the folds that test it
    probs = li.cross_val_pred_probs(x, labels, n_classes=3, folds=3)
    assert probs[11, 2] == 0 and np.allclose(probs.sum(1), 1)


def test_multilabel_issues_find_injected_toggles():
    d = gen.multilabel(n=300, k=4, n_videos=40, seed=2)
    probs = li.cross_val_multilabel_probs(d.features, d.given, groups=d.groups)
    issues = li.multilabel_issues(d.given, probs)
    m = gen.precision_recall(issues.order, issues.flagged, d.wrong)
    assert m["precision_top"] >= 0.6 and m["recall_top_noise_rate"] >= 0.5  # chance 0.1
    same = li.multilabel_issues(li.as_label_lists(d.given), probs)  # lists or a binary matrix
    assert np.allclose(same.scores, issues.scores)


def test_va_issues_rank_wrong_ratings_by_residual_over_annotator_spread():
    d, spread = gen.valence_arousal(n=300, n_videos=40, seed=4)
    pred = li.cross_val_regression(d.features, d.given, groups=d.groups)
    issues = li.va_issues(d.given, pred, spread=spread)
    m = gen.precision_recall(issues.order, issues.flagged, d.wrong)
    assert m["precision_top"] >= 0.8 and m["recall_top_noise_rate"] >= 0.6
    assert m["precision_flagged"] >= 0.8


def test_va_issues_weigh_residuals_by_the_annotators_spread():
    labels = np.array([[0.5, 0.5], [0.5, 0.5], [0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1]])
    pred = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.1, 0.0]])
    spread = np.array([0.6, 0.0, np.nan, np.nan, np.nan, np.nan])  # row 0: people disagreed a lot
    issues = li.va_issues(labels, pred, spread=spread)
    assert issues.order[0] == 1 and issues.scores[1] < issues.scores[0]


def test_bad_features_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="NaN"):
        li.cross_val_pred_probs(np.array([[0.0], [np.nan], [1.0], [2.0]]), np.array([0, 1, 0, 1]), n_classes=2)
    with pytest.raises(ValueError, match="N = 3"):
        li.cross_val_regression(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="differ in shape"):
        li.va_issues(np.zeros((3, 2)), np.zeros((3, 1)))
