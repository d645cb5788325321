"""core.metrics_modes against hand-computed and scikit-learn values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score

from core.metrics import ccc, evaluate_predictions
from core.metrics_modes import (
    THRESHOLD_GRID,
    distribution_metrics,
    evaluate_heads,
    kl_rows,
    multilabel_metrics,
    target_metrics,
    tune_thresholds,
)

NAN = math.nan
Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0], [NAN, NAN, NAN]])
S = np.array([[0.9, 0.2, 0.4], [0.6, 0.7, 0.1], [0.8, 0.3, 0.2], [0.1, 0.1, 0.3], [0.9, 0.9, 0.9]])


def test_multilabel_per_class_counts_macro_micro_and_map():
    m = multilabel_metrics(Y, S, classes=["a", "b", "c"])
    assert m["n"] == 4  # the NaN row is unlabelled
    # a: predicted 1,1,1,0 vs true 1,0,1,0 -> tp 2, fp 1; b: 0,1,0,0 vs 0,1,1,0 -> tp 1, fn 1;
    # c: nothing predicted, one positive -> 0
    a, b, c = (m["per_class"][k] for k in "abc")
    assert (a["precision"], a["recall"], a["support"]) == (pytest.approx(2 / 3), 1.0, 2)
    assert (b["precision"], b["recall"], b["f1"]) == (1.0, 0.5, pytest.approx(2 / 3))
    assert c["f1"] == 0.0 and c["support"] == 1
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0) / 3)
    assert m["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))  # tp 3, fp 1, fn 2
    truth, s = Y[:4], S[:4]
    assert m["micro_f1"] == pytest.approx(f1_score(truth, s >= 0.5, average="micro"))
    aps = [average_precision_score(truth[:, k], s[:, k]) for k in range(3)]
    assert a["ap"] == pytest.approx(aps[0]) and m["map"] == pytest.approx(np.mean(aps))
    assert c["ap"] == 1.0  # its one positive scores highest


def test_thresholds_change_decisions_and_tuning_maximises_f1():
    at = multilabel_metrics(Y, S, classes=["a", "b", "c"], thresholds=[0.7, 0.5, 0.35])
    assert at["per_class"]["a"]["precision"] == 1.0 and at["per_class"]["c"]["f1"] == 1.0
    assert at["thresholds"] == {"a": 0.7, "b": 0.5, "c": 0.35}
    t = tune_thresholds(Y, S)
    assert 0.6 < t[0] <= 0.8 and 0.3 < t[2] <= 0.4  # a: above 0.6 drops the false positive
    assert multilabel_metrics(Y, S, classes=["a", "b", "c"], thresholds=t)["per_class"]["a"]["f1"] == 1.0
    rng = np.random.default_rng(0)
    y, s = (rng.random((60, 4)) < 0.3).astype(float), rng.random((60, 4))
    for k, best in enumerate(tune_thresholds(y, s)):  # the grid's best F1, as scikit-learn counts it
        f1s = [f1_score(y[:, k], s[:, k] >= g) for g in THRESHOLD_GRID]
        assert f1_score(y[:, k], s[:, k] >= best) == pytest.approx(max(f1s))
    no_pos = tune_thresholds(np.zeros((3, 1)), np.array([[0.9], [0.2], [0.4]]))
    assert no_pos.tolist() == [0.5]
    assert multilabel_metrics(np.full((2, 3), NAN), S[:2], classes=["a", "b", "c"]) is None


def test_distribution_kl_uniform_baseline_top1_and_per_class_ccc():
    y = np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75], [0.0, 0.0, 0.0], [NAN, NAN, NAN],
                  [1.0, 0.0, 0.0]])
    p = np.array([[0.4, 0.4, 0.2], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4], [0.3, 0.3, 0.4],
                  [0.2, 0.7, 0.1]])
    d = distribution_metrics(y, p, classes=["x", "y", "z"])
    assert d["n"] == 3  # the all-zero ("no emotion") and the NaN rows have nothing to match
    kl = [0.5 * math.log(0.5 / 0.4) * 2, 0.25 * math.log(0.25 / 0.3) + 0.75 * math.log(0.75 / 0.6),
          math.log(1 / 0.2)]
    assert d["kl"] == pytest.approx(np.mean(kl))
    entropy = [math.log(2), -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)), 0.0]
    assert d["kl_uniform"] == pytest.approx(np.mean([math.log(3) - h for h in entropy]))
    assert d["kl_skill"] == pytest.approx(1 - d["kl"] / d["kl_uniform"])
    assert d["top1_agreement"] == pytest.approx(2 / 3)  # row 0: tie -> first class both sides
    keep = [0, 1, 4]
    assert d["ccc_per_class"]["z"] == pytest.approx(ccc(y[keep, 2], p[keep, 2]))
    assert kl_rows(y[:1], y[:1])[0] == pytest.approx(0.0)


def test_target_metrics_and_one_minus_mae_on_the_range():
    t = np.array([0.2, 0.4, 0.6, NAN])
    p = np.array([0.3, 0.4, 0.4, 0.9])
    m = target_metrics(t, p)
    assert m["n"] == 3 and m["mae"] == pytest.approx(0.1) and m["one_minus_mae"] == pytest.approx(0.9)
    assert m["rmse"] == pytest.approx(math.sqrt((0.01 + 0 + 0.04) / 3))
    assert m["ccc"] == pytest.approx(ccc(t[:3], p[:3]))
    assert m["pearson"] == pytest.approx(np.corrcoef(t[:3], p[:3])[0, 1])
    wide = target_metrics(t * 6 - 3, p * 6 - 3, low=-3, high=3)  # same errors on a 6-wide range
    assert wide["mae"] == pytest.approx(0.6) and wide["one_minus_mae"] == pytest.approx(0.9)
    assert target_metrics(np.full(2, NAN), np.zeros(2)) is None


def _common(n: int) -> dict:
    rng = np.random.default_rng(0)
    va = rng.uniform(-1, 1, (n, 2))
    return {"va_true": va, "va_pred": va * 0.8, "stress_true": np.full(n, NAN),
            "stress_pred": np.full(n, 0.5)}


def test_combined_score_single_mode_matches_evaluate_predictions():
    codes = np.array([0, 1, 2, 1, 0, 2])
    probs = np.eye(3)[[0, 1, 1, 1, 0, 2]] * 0.8 + 0.05
    c = _common(6)
    out = evaluate_heads(mode="single", classes=["a", "b", "c"], emotion_true=codes, emotion_pred=probs, **c)
    ref = evaluate_predictions(emotion_true=codes, emotion_pred=probs, classes=["a", "b", "c"],
                               valence_true=c["va_true"][:, 0], valence_pred=c["va_pred"][:, 0],
                               arousal_true=c["va_true"][:, 1], arousal_pred=c["va_pred"][:, 1])
    assert out["combined"] == pytest.approx(ref["combined"]) and out["combined_name"] == "macro_f1+ccc_va"


def test_combined_score_generalises_over_heads():
    c = _common(4)
    dom = np.array([0.1, -0.5, 0.7, 0.2])
    targets = np.array([[0.1, 2.0], [0.5, -1.0], [0.9, 0.0], [0.3, 1.0]])
    out = evaluate_heads(mode="multi", classes=["a", "b", "c"], emotion_true=Y[:4], emotion_pred=S[:4],
                         dominance_true=dom, dominance_pred=dom * 0.5, targets_true=targets,
                         targets_pred=targets + 0.1, target_ranges={"o": [0, 1], "s": [-3, 3]}, **c)
    vad = np.mean([out["ccc_valence"], out["ccc_arousal"], ccc(dom, dom * 0.5)])
    cccs = [ccc(targets[:, j], targets[:, j] + 0.1) for j in range(2)]
    assert out["combined_name"] == "map+ccc_vad+ccc_targets"
    assert out["combined"] == pytest.approx(out["map"] + vad + np.mean(cccs))
    assert out["one_minus_mae"] == pytest.approx(np.mean([1 - 0.1, 1 - 0.1 / 6]))
    assert out["macro_f1"] == out["emotions"]["macro_f1"] and out["accuracy"] is None
    dist = evaluate_heads(mode="distribution", classes=["a", "b"], emotion_true=np.array([[0.8, 0.2], [0.1, 0.9]]),
                          emotion_pred=np.array([[0.7, 0.3], [0.4, 0.6]]), **_common(2))
    assert dist["combined_name"] == "kl_skill+ccc_va" and dist["accuracy"] == 1.0
