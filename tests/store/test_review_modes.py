"""core.store.review_modes on generated EMOTIC/MOSEI/FIV2 datasets with one confident mistake each:
aligned arrays, per-mode metrics, co-occurrence counts and their cells' samples, orderings."""
from __future__ import annotations

import numpy as np
import pytest

from core.store.db import read_session
from core.store.review import review_sources
from core.store.review_modes import (
    cell_ids,
    cooccurrence,
    has_emotion_labels,
    mode_arrays,
    mode_metrics,
    order_ids,
)
from tests.pages.modes_predictions import WRONG, seed_mode_predictions
from tests.pages.modes_seed import seed_modes


@pytest.fixture
def arrays(env):
    datasets = seed_modes(env)
    seed_mode_predictions(datasets)
    with read_session() as s:
        sources = {src.dataset_id: src for src in review_sources(s)}
        return {name: mode_arrays(s, sources[ds]) for name, ds in datasets.items()}


def test_multi_label_metrics_cooccurrence_and_cells(arrays):
    a = arrays["emotic"]
    assert a.ids.tolist() == list(range(1, 9)) and a.truth.shape == (8, 26)
    m = mode_metrics(a)
    pain = m["emotions"]["per_class"]["Pain"]
    assert pain["precision"] == 0.0 and pain["support"] == 0  # the one false positive
    assert m["emotions"]["per_class"]["Anger"] == pytest.approx(
        {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "ap": 1.0, "threshold": 0.5})
    assert m["dominance"]["mae"] == pytest.approx(0.0)
    both = cooccurrence(a, "label x label")
    k = a.schema.classes.index
    assert both[k("Anger"), k("Fear")] == 1 and both[k("Anger"), k("Anger")] == 2
    assert (both == both.T).all()
    assert cell_ids(a, "label x label", "Anger", "Fear") == [1]
    vs = cooccurrence(a, "label x prediction")
    assert vs[k("Anger"), k("Pain")] == 1 and cell_ids(a, "label x prediction", "Anger", "Pain") == [WRONG["emotic"]]
    assert vs.sum() == both.sum() + 2  # right everywhere, and sample 2's two labels also "predicted" Pain


def test_distribution_metrics_and_confident_mistake(arrays):
    a = arrays["mosei"]
    m = mode_metrics(a)
    assert m["distribution"]["top1_agreement"] == pytest.approx(7 / 8)
    assert m["targets"]["sentiment"]["mae"] == pytest.approx(0.1)
    assert order_ids(a, "most confident wrong") == [WRONG["mosei"]]
    assert cell_ids(a, "label x prediction", "Anger", "Happy") == [WRONG["mosei"]]
    assert order_ids(a, "worst")[0] == WRONG["mosei"]  # no stored loss: KL decides
    assert order_ids(a, "best")[-1] == WRONG["mosei"]


def test_trait_orders_and_metrics(arrays):
    a = arrays["fiv2"]
    assert not has_emotion_labels(a) and list(a.targets) == ["extraversion", "neuroticism", "agreeableness",
                                                   "conscientiousness", "openness", "interview"]
    m = mode_metrics(a)["targets"]
    assert m["openness"]["n"] == 8 and 0 < m["openness"]["one_minus_mae"] < 1
    assert order_ids(a, "worst")[0] == WRONG["fiv2"]
    rnd = order_ids(a, "random", seed=3)
    assert sorted(rnd) == a.ids.tolist() and rnd == order_ids(a, "random", seed=3)
    assert order_ids(a, "random", ids=[18, 20]) in ([18, 20], [20, 18])
    with pytest.raises(ValueError, match="unknown order"):
        order_ids(a, "largest V/A error")
    assert cooccurrence(a, "label x label").sum() == 0 and order_ids(a, "most confident wrong")[0] == WRONG["fiv2"]


def test_loss_orders_when_stored(arrays):
    a = arrays["emotic"]
    a.loss = np.arange(8, dtype=float)
    assert order_ids(a, "worst")[:2] == [8, 7] and order_ids(a, "best")[:2] == [1, 2]
