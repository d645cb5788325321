"""core.metrics against direct numpy formulas and brute force."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core import metrics as m


def make_data(seed: int = 1, n: int = 200):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, n)
    p = np.clip(0.6 * t + rng.normal(0, 0.3, n) + 0.1, -1, 1)
    return t, p


def test_ccc_matches_formula_and_edge_cases():
    t, p = make_data()
    cov = np.mean((t - t.mean()) * (p - p.mean()))
    expected = 2 * cov / (t.var() + p.var() + (t.mean() - p.mean()) ** 2)
    assert m.ccc(t, p) == pytest.approx(expected, rel=1e-12)
    assert m.ccc(t, t) == pytest.approx(1.0)
    c = t - t.mean()
    assert m.ccc(c, -c) == pytest.approx(-1.0)  # -1 needs equal means
    assert m.ccc(t, t + 0.5) < m.pearson(t, t + 0.5) == pytest.approx(1.0)  # CCC punishes bias
    assert math.isnan(m.ccc([0.3], [0.2]))
    assert m.ccc(t, np.zeros_like(t)) == pytest.approx(0.0)  # constant prediction


def test_regression_metrics_match_numpy():
    t, p = make_data(2)
    assert m.pearson(t, p) == pytest.approx(np.corrcoef(t, p)[0, 1], rel=1e-12)
    assert m.rmse(t, p) == pytest.approx(np.sqrt(np.mean((t - p) ** 2)))
    assert m.mae(t, p) == pytest.approx(np.mean(np.abs(t - p)))
    assert math.isnan(m.pearson(t, np.ones_like(t)))
    with pytest.raises(ValueError):
        m.rmse([1, 2], [1, 2, 3])


def test_classification_metrics_match_manual_counts():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 300)
    p = np.where(rng.uniform(size=300) < 0.6, y, rng.integers(0, 4, 300))
    cm = m.confusion_matrix(y, p, n_classes=5)
    assert cm.shape == (5, 5) and cm.sum() == 300
    for i, j in itertools.product(range(5), range(5)):
        assert cm[i, j] == np.sum((y == i) & (p == j))
    prf = m.precision_recall_f1(y, p, n_classes=5)
    for k in range(4):
        tp, fp, fn = np.sum((y == k) & (p == k)), np.sum((y != k) & (p == k)), np.sum((y == k) & (p != k))
        prec, rec = tp / (tp + fp), tp / (tp + fn)
        assert prf["precision"][k] == pytest.approx(prec)
        assert prf["recall"][k] == pytest.approx(rec)
        assert prf["f1"][k] == pytest.approx(2 * prec * rec / (prec + rec))
    assert prf["support"][4] == 0 and prf["f1"][4] == 0.0
    assert prf["macro_f1"] == pytest.approx(prf["f1"][:4].mean())  # class 4 never occurs
    assert m.accuracy(y, p) == pytest.approx(np.mean(y == p))


def brute_auroc(t: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[t == 1], s[t == 0]
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_equals_pair_count_with_ties(seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, 120)
    s = np.round(rng.uniform(size=120) + 0.3 * t, 1)  # rounding makes many ties
    assert m.auroc(t, s) == pytest.approx(brute_auroc(t, s), rel=1e-12)
    assert m.auroc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert m.auroc([0, 1], [0.5, 0.5]) == 0.5
    assert math.isnan(m.auroc([1, 1], [0.2, 0.3]))


def test_binary_f1():
    t = np.array([1, 1, 0, 0, 1])
    p = np.array([1, 0, 1, 0, 1])
    assert m.binary_f1(t, p) == pytest.approx(2 * 2 / (3 + 3))
    assert m.binary_f1([0, 0], [0, 0]) == 0.0


def test_evaluate_predictions_masks_missing_labels_per_task():
    rng = np.random.default_rng(4)
    n, k = 50, 3
    y = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n)
    v, a, s = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(0, 1, n)
    pv, pa, ps = v + rng.normal(0, .2, n), a + rng.normal(0, .2, n), rng.uniform(0, 1, n)
    y_miss, v_miss, s_miss = y.copy(), v.copy(), s.copy()
    y_miss[:10], v_miss[5:20], s_miss[::3] = -1, np.nan, -1
    out = m.evaluate_predictions(emotion_true=y_miss, emotion_pred=probs, n_classes=k,
                                 valence_true=v_miss, valence_pred=pv, arousal_true=a,
                                 arousal_pred=pa, stress_true=s_miss, stress_pred=ps)
    keep_v = np.isfinite(v_miss)
    assert out["ccc_valence"] == pytest.approx(m.ccc(v[keep_v], pv[keep_v]))
    assert out["ccc_arousal"] == pytest.approx(m.ccc(a, pa))
    prf = m.precision_recall_f1(y[10:], probs[10:].argmax(1), n_classes=k)
    assert out["macro_f1"] == pytest.approx(prf["macro_f1"])
    assert out["accuracy"] == pytest.approx(np.mean(y[10:] == probs[10:].argmax(1)))
    keep_s = s_miss >= 0
    assert out["stress_auroc"] == pytest.approx(m.auroc(s[keep_s] >= 0.5, ps[keep_s]))
    assert out["combined"] == pytest.approx(out["macro_f1"] + (out["ccc_valence"] + out["ccc_arousal"]) / 2)
    assert out["emotion"]["n"] == 40 and out["valence"]["n"] == 35 and out["stress"]["n"] == 33
    assert np.array(out["emotion"]["confusion"]).sum() == 40


def test_evaluate_predictions_none_without_labels():
    n = 6
    out = m.evaluate_predictions(emotion_true=np.full(n, -1), emotion_pred=np.zeros((n, 2)),
                                 n_classes=2, valence_true=np.full(n, np.nan),
                                 valence_pred=np.zeros(n), stress_true=np.full(n, np.nan),
                                 stress_pred=np.zeros(n))
    assert out["macro_f1"] is None and out["ccc_valence"] is None and out["ccc_arousal"] is None
    assert out["stress_auroc"] is None and out["combined"] is None and out["emotion"] is None
    only_va = m.evaluate_predictions(valence_true=[0.1, 0.5, -0.3], valence_pred=[0.0, 0.4, -0.2])
    assert only_va["combined"] == pytest.approx(only_va["ccc_valence"])


def test_empty_and_out_of_range_inputs():
    assert m.confusion_matrix([], [], n_classes=3).tolist() == [[0] * 3] * 3
    prf = m.precision_recall_f1([], [], n_classes=3)
    assert prf["support"].tolist() == [0, 0, 0] and math.isnan(prf["macro_f1"])
    with pytest.raises(ValueError, match="0..2"):
        m.confusion_matrix([0, 3], [0, 1], n_classes=3)
    with pytest.raises(ValueError, match="3 values"):
        m.precision_recall_f1([0, 1, 2], [0, 1], n_classes=3)
    assert math.isnan(m.mae([], [])) and m.binary_f1([], []) == 0.0
