"""core.active_learning: uncertainty, the per-video cap and k-center diversity, and a small
generated problem where uncertainty + diversity learns at least as fast as random order."""
from __future__ import annotations

import numpy as np
import pytest

from core import active_learning as al
from tests import label_quality_data as gen


def test_margin_and_entropy_rank_ties_first_and_certainty_last():
    p = np.array([[0.5, 0.5, 0.0], [0.98, 0.01, 0.01], [0.4, 0.3, 0.3], [1 / 3, 1 / 3, 1 / 3]])
    m = al.margin_uncertainty(p)
    assert m[0] == pytest.approx(1) and m[1] == pytest.approx(0.03) and m[1] == m.min()
    e = al.entropy_uncertainty(p)
    assert e[3] == pytest.approx(1) and e.argmin() == 1
    with pytest.raises(ValueError, match="unknown uncertainty"):
        al.uncertainty(p, method="vibes")
    with pytest.raises(ValueError, match="K >= 2"):
        al.uncertainty(np.ones((3, 1)))


def test_cap_per_group_keeps_at_most_m_of_each_video():
    order = np.arange(10)
    groups = np.array([0, 0, 0, 0, 1, 1, 2, 0, 2, 2])
    assert list(al.cap_per_group(order, groups, 2)) == [0, 1, 4, 5, 6, 8]
    assert list(al.cap_per_group(order, None, 2)) == list(range(10))


def test_k_center_greedy_spreads_over_clusters_and_avoids_labelled_ones():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])
    x = np.vstack([c + rng.normal(0, 0.1, (20, 2)) for c in centers])
    picked = al.k_center_greedy(x, 4)
    assert sorted(picked // 20) == [0, 1, 2, 3]
    away = al.k_center_greedy(x, 3, labelled=x[:20])  # cluster 0 labelled already
    assert 0 not in set(away // 20)


def test_select_batch_one_video_cannot_fill_the_queue():
    rng = np.random.default_rng(1)
    n = 60
    groups = np.array([0] * 40 + list(range(1, 21)))  # one long video of 40 near-identical frames
    probs = np.full((n, 2), 0.5)
    probs[40:] = [0.7, 0.3]  # the long video is the most uncertain
    feats = np.vstack([rng.normal(0, 0.01, (40, 3)), rng.normal(0, 1, (20, 3))])
    plain = al.select_batch(probs, 10)
    assert set(groups[plain]) == {0}  # uncertainty alone: all from one video
    batch = al.select_batch(probs, 10, features=feats, groups=groups, per_group=2)
    assert len(batch) == 10 and (np.bincount(groups[batch]) <= 2).all()
    assert len(set(batch)) == 10


def test_uncertainty_with_diversity_is_not_worse_than_random_on_an_easy_problem():
    """Mean over 3 seeds of the area under the macro-F1 learning curve (same labels budget)."""
    auc = {"random": [], "margin+diversity": []}
    for seed in range(3):
        d = gen.classes(n=500, k=4, d=8, noise=0, sep=1.0, n_videos=40, skew=0.3, seed=seed)
        for strategy in auc:
            curve = gen.learning_curve(d, strategy, seed=seed, start=8, batch=8, budget=64)
            auc[strategy].append(np.mean([f1 for _, f1 in curve]))
    assert np.mean(auc["margin+diversity"]) >= np.mean(auc["random"])
    assert al.labels_to_reach([(8, 0.2), (16, 0.5), (24, 0.7)], 0.6) == 24
    assert al.labels_to_reach([(8, 0.2)], 0.6) is None


def test_multilabel_uncertainty_is_distance_to_each_threshold():
    p = np.array([[0.5, 0.5], [0.9, 0.1], [0.3, 0.95]])
    assert al.multilabel_uncertainty(p).tolist() == pytest.approx([1.0, 0.2, 0.35])
    t = np.array([0.3, 0.3])
    assert al.multilabel_uncertainty(p, t)[2] == pytest.approx((1.0 + (1 - 0.65 / 0.7)) / 2)
    assert al.multilabel_uncertainty(p, method="entropy")[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown uncertainty"):
        al.multilabel_uncertainty(p, method="vibes")
