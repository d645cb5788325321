"""AppTest of Review on the richer schemas (stored predictions with predictions.outputs, one
confident mistake per dataset): the per-category table, the co-occurrence heatmap whose clicked
cell lists its samples, orderings per mode, and the trait table and scatter."""
from __future__ import annotations

import json

import pytest

from tests.pages.modes_predictions import WRONG, seed_mode_predictions


@pytest.fixture
def review(app_modes):
    """Review on the three datasets (ids 1-3 from app_modes) with a run of predictions each."""
    seed_mode_predictions({"emotic": 1, "mosei": 2, "fiv2": 3})
    return lambda **state: app_modes("review", **state)


def _ids(at) -> list[int]:
    return [int(b.key.rsplit("-", 1)[1]) for b in at.button if b.key and b.key.startswith("review-open-")]


def _pick(at, name: str):
    """Choose the predictions source of dataset `name` in the sidebar."""
    box = at.sidebar.selectbox(key="rv_source")
    return box.select_index(next(i for i, o in enumerate(box.options) if f"· {name}" in o)).run()


def test_multi_label_table_heatmap_drill_down_and_orders(review):
    at = _pick(review(), "emotic")
    assert not at.exception, at.exception
    assert _ids(at)[0] == WRONG["emotic"]  # worst: no stored loss, the mean |score - label| decides
    at.sidebar.selectbox(key="rv_morder").set_value("most confident wrong").run()
    assert _ids(at) == [WRONG["emotic"]]
    at.sidebar.selectbox(key="rv_morder").set_value("random").run()
    assert sorted(_ids(at)) == list(range(1, 9))
    at.session_state["rv_mtab"] = "Per category"
    at.run()
    table = at.dataframe[0].value
    pain = table[table["category"] == "Pain"].iloc[0]
    assert pain["precision"] == 0.0 and pain["support"] == 0
    assert table[table["category"] == "Anger"].iloc[0]["f1"] == 1.0
    assert any(c.value.startswith("macro-F1") and "mAP" in c.value for c in at.caption)
    at.session_state["rv_mtab"] = "Co-occurrence"
    at.run()
    at.radio(key="rv_mkind").set_value("label x prediction").run()
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    trace = fig["data"][0]
    assert trace["marker"]["symbol"] == "square" and fig["layout"]["xaxis"]["title"]["text"] == "predicted"
    cell = next(d for d in trace["customdata"] if d[:2] == ["Anger", "Pain"])
    assert cell[2] == 1
    at.session_state["rv_mcm-0"] = {"selection": {"points": [
        {"x": "Pain", "y": "Anger", "customdata": cell, "point_index": 0, "curve_number": 0}],
        "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["rv_mcell"] == ("label x prediction", "Anger", "Pain")
    assert at.session_state["rv_mtab"] == "Samples" and _ids(at) == [WRONG["emotic"]]
    assert any("showing label x prediction cell Anger / Pain" in c.value for c in at.caption)
    at.session_state["rv_mtab"] = "Valence / arousal"
    at.run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("valence CCC") for c in at.caption)
    at.session_state["rv_mtab"] = "Samples"
    at.run()
    at.button(key="rv_mclear").click().run()
    assert len(_ids(at)) == 8
    at.button(key=f"review-open-{WRONG['emotic']}").click().run()  # fix the label in Relabel
    assert at.session_state["relabel_queue"][0] == WRONG["emotic"]


def test_distribution_cells_and_confident_mistake(review):
    at = _pick(review(rv_mcell=("label x label", "Sad", "Sad")), "mosei")
    assert sorted(_ids(at)) == [10, 16]  # dominant class Sad
    at.session_state["rv_mcell"] = None
    at.sidebar.selectbox(key="rv_morder").set_value("most confident wrong").run()
    assert _ids(at) == [WRONG["mosei"]]
    at.session_state["rv_mtab"] = "Per category"
    at.run()
    assert any("top-1 agreement with the dominant emotion 87.5%" in c.value for c in at.caption)
    at.session_state["rv_mtab"] = "Traits"
    at.run()
    sentiment = at.dataframe[0].value.iloc[0]
    assert sentiment["target"] == "sentiment" and sentiment["mae"] == pytest.approx(0.1)


def test_trait_table_scatter_and_worst_first(review):
    at = _pick(review(), "fiv2")
    assert _ids(at)[0] == WRONG["fiv2"]
    assert "Co-occurrence" not in [t.label for t in at.tabs]  # no emotion labels in FIV2
    at.session_state["rv_mtab"] = "Traits"
    at.run()
    table = at.dataframe[0].value
    assert list(table["target"]) == ["extraversion", "neuroticism", "agreeableness", "conscientiousness",
                                     "openness", "interview"]
    assert (table["one_minus_mae"] < 1).all() and (table["n"] == 8).all()
    scatters = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(scatters) == 6 and scatters[0]["layout"]["xaxis"]["title"]["text"] == "true extraversion"
