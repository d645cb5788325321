"""core.agreement on arrays (published values) and the consensus rules of core.store.consensus."""
from __future__ import annotations

from types import SimpleNamespace

import krippendorff
import numpy as np
import pytest

from core import agreement as ag
from core.store.consensus import apply_consensus, category_majority, combine, majority, mean_distribution

NAN = np.nan
# Krippendorff (2011) "Computing Krippendorff's alpha-reliability", the example the `krippendorff`
# package's README uses: nominal 0.691, interval 0.811 (3 coders, 15 units, missing values)
K2011 = np.array([[NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
                  [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
                  [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4]])
# Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges; Table 4 gives the ICCs to 2 decimals
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
SF_ICC = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}


def test_alpha_matches_the_published_example():
    assert ag.alpha(K2011, level="nominal") == pytest.approx(0.691, abs=5e-4)
    assert ag.alpha(K2011, level="interval") == pytest.approx(0.811, abs=5e-4)


def test_alpha_is_the_package_value_on_random_data_with_gaps():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 4, size=(4, 60)).astype(float)
    data[rng.uniform(size=data.shape) < 0.3] = NAN
    assert ag.alpha(data, level="nominal") == krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    cont = rng.normal(size=(3, 50)) + rng.normal(size=50)
    assert ag.alpha(cont, level="interval") == pytest.approx(
        krippendorff.alpha(reliability_data=cont, level_of_measurement="interval"))


def test_alpha_is_nan_without_variation_or_pairs():
    assert np.isnan(ag.alpha(np.ones((3, 5)), level="nominal"))
    assert np.isnan(ag.alpha(np.array([[1.0, NAN], [NAN, 2.0]]), level="nominal"))


def test_icc_matches_shrout_fleiss():
    got = ag.icc(SHROUT_FLEISS)
    assert {k: round(v, 2) for k, v in got.items()} == SF_ICC
    with pytest.raises(ValueError, match="missing"):
        ag.icc(np.array([[1.0, NAN], [2.0, 3.0]]))


def test_encode_and_category_matrix():
    codes = ag.encode([["Happy", None], ["Sad", "Happy"]], ["Happy", "Sad"])
    assert codes[0, 0] == 0 and np.isnan(codes[0, 1]) and codes[1, 0] == 1
    cat = ag.category_matrix([[["Joy", "Fear"], None], [[], ["Joy"]]], "Joy")
    assert cat[0, 0] == 1 and np.isnan(cat[0, 1]) and cat[1, 0] == 0 and cat[1, 1] == 1


def test_pairwise_disagreement_and_reference():
    data = np.array([[0, 1, 2, 0, 1.0], [0, 1, 2, 0, 1], [1, 1, 0, 0, NAN]])
    scores, shared = ag.pairwise(data, level="nominal")
    assert scores[0, 1] == 1.0 and scores[0, 2] == scores[2, 0] < 1 and np.diag(scores).tolist() == [1, 1, 1]
    assert shared[0, 2] == 4 and shared[2, 2] == 4
    assert scores[0, 2] == pytest.approx(ag.alpha(data[[0, 2], :4], level="nominal"))
    dis = ag.disagreement(data, level="nominal")
    assert dis.tolist() == pytest.approx([1 / 3, 0, 1 / 3, 0, 0])
    std = ag.disagreement(np.array([[0.0, 1.0], [1.0, NAN]]), level="interval")
    assert std[0] == pytest.approx(0.5) and np.isnan(std[1])
    ref = ag.versus_reference(data, np.array([0, 1, 2, 0, 1.0]), level="nominal")
    assert ref.tolist() == pytest.approx([1, 1, 0.5])
    mae = ag.versus_reference(np.array([[0.0, 1.0]]), np.array([0.5, 0.5]), level="interval")
    assert mae.tolist() == [0.5]


def test_consensus_rules():
    assert majority(["Happy", "Sad", "Happy"]) == ("Happy", False)
    assert majority(["Happy", "Sad"]) == (None, True)
    assert category_majority([["Joy", "Fear"], ["Joy"], ["Fear", "Pain"]]) == ["Fear", "Joy"]
    assert category_majority([["Joy"], []]) == []  # exactly half is out
    assert mean_distribution([{"a": 1.0}, {"a": 0.5, "b": 0.5}]) == {"a": 0.75, "b": 0.25}
    assert mean_distribution([{}, {}]) == {}
    assert combine("valence", [0.2, 0.4, 0.9]) == (pytest.approx(0.5), False)
    assert combine("target:openness", [0.1, 0.3]) == (pytest.approx(0.2), False)


def _row(id_, who, source="human", **values):
    base = dict.fromkeys(("emotion", "emotions", "distribution", "valence", "arousal", "dominance", "stress",
                          "targets"))
    return SimpleNamespace(id=id_, annotator_id=who, source=source, undoes_id=None, **(base | values))


def test_apply_consensus_uses_each_annotators_newest_task_value():
    rows = [_row(1, None, "imported", emotion="Fear", valence=0.0),
            _row(2, 1, emotion="Happy", valence=0.1), _row(3, 2, emotion="Sad", valence=0.3),
            _row(4, 3, emotion="Sad", valence=0.5, targets={"o": 0.2}), _row(5, 1, emotion="Sad", valence=0.7)]
    cur = {"cur_emotion": "Sad", "cur_valence": 0.7, "cur_targets": {"o": 0.2},
           "cur_sources": {"emotion": "human", "valence": "human", "target:o": "human"}}
    apply_consensus(cur, rows, {2, 3, 4, 5})
    assert cur["cur_emotion"] == "Sad" and cur["cur_valence"] == pytest.approx((0.7 + 0.3 + 0.5) / 3)
    assert cur["cur_sources"] == {"emotion": "consensus:3", "valence": "consensus:3", "target:o": "human"}


def test_apply_consensus_tie_and_an_adjudicating_edit():
    rows = [_row(1, 1, emotion="Happy"), _row(2, 2, emotion="Sad")]
    cur = {"cur_emotion": "Sad", "cur_sources": {"emotion": "human"}}
    apply_consensus(cur, rows, {1, 2})
    assert cur["cur_emotion"] is None and cur["cur_sources"]["emotion"] == "consensus:2:tie"
    rows.append(_row(3, 4, emotion="Happy"))  # an ordinary (non-task) edit made afterwards wins
    cur = {"cur_emotion": "Happy", "cur_sources": {"emotion": "human"}}
    apply_consensus(cur, rows, {1, 2})
    assert cur == {"cur_emotion": "Happy", "cur_sources": {"emotion": "human"}}


def test_apply_consensus_leaves_a_project_without_tasks_alone():
    rows = [_row(1, 1, emotion="Happy"), _row(2, 2, emotion="Sad")]
    cur = {"cur_emotion": "Sad", "cur_sources": {"emotion": "human"}}
    apply_consensus(cur, rows, set())
    assert cur == {"cur_emotion": "Sad", "cur_sources": {"emotion": "human"}}
