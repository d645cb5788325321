"""AppTest of Browse on the richer schemas: filter by multi-label category, by the dominant class
of a distribution, by dominance and by a named-target range; captions and the detail history
show the richer labels in words."""
from __future__ import annotations

from core.store.db import read_session, write_session
from core.store.labels import edit_label
from core.store.models import Sample


def _ids(at) -> list[int]:
    return [int(b.key.rsplit("-", 1)[1]) for b in at.button if b.key and b.key.startswith("browse-open-")]


def _grid_captions(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("\\#")]


def test_multi_label_category_and_dominance_filters(app_modes):
    at = app_modes("browse", dataset_id=1)
    assert not any(m.key == "f_emotion" for m in at.sidebar.multiselect)  # no single-emotion filter
    at.sidebar.multiselect(key="f_category-1").set_value(["Anger"]).run()
    assert at.caption[0].value.startswith("2 samples match") and _ids(at) == [1, 2]
    assert any("Affection, Anger, Fear \\(imported\\)" in c for c in _grid_captions(at))
    at.sidebar.multiselect(key="f_category-1").set_value(["Fear"]).run()
    assert _ids(at) == [1]
    at.sidebar.multiselect(key="f_category-1").set_value([]).run()
    at.sidebar.slider(key="f_dominance-1").set_value((-0.25, 1.0)).run()
    assert _ids(at) == [1, 2, 3]  # dominance 0, -0.1, -0.2


def test_dominant_class_filter_follows_an_edit(app_modes):
    at = app_modes("browse", dataset_id=2)
    at.sidebar.multiselect(key="f_category-2").set_value(["Sad"]).run()
    assert _ids(at) == [10, 16]  # {Sad .75, Anger .25}
    with write_session() as s, s.begin():
        edit_label(s, 11, base_annotation_id=s.get(Sample, 11).cur_annotation_id, annotator="ana",
                   distribution={"Sad": 2, "Happy": 1})
    at.sidebar.multiselect(key="f_category-2").set_value(["Sad", "Disgust"]).run()
    assert _ids(at) == [10, 11, 13, 16]
    at.button(key="browse-open-11").click().run()
    history = next(d.value for d in at.dataframe if "after" in d.value.columns)
    assert list(history["who"])[0] == "ana"
    assert list(history["after"])[0] == "distribution Sad 67%, Happy 33%"
    assert list(history["before"])[0].startswith("distribution Anger 75%, Surprise 25%")


def test_named_target_range_filter(app_modes):
    at = app_modes("browse", dataset_id=3)
    at.sidebar.slider(key="f_target-3-0").set_value((0.45, 1.0)).run()  # extraversion 0.1 .. 0.8
    assert _ids(at) == [21, 22, 23, 24]
    with read_session() as s:
        assert all(s.get(Sample, i).cur_targets["extraversion"] >= 0.45 for i in _ids(at))
    at.sidebar.slider(key="f_target-3-5").set_value((0.0, 0.35)).run()  # interview too
    assert _ids(at) == [21, 22, 23]  # interview 0.1, 0.2, 0.3


def test_detail_lists_a_predictions_richer_outputs(app_modes):
    from tests.pages.modes_predictions import seed_mode_predictions

    seed_mode_predictions({"emotic": 1})
    at = app_modes("browse", dataset_id=1)
    at.button(key="browse-open-2").click().run()
    preds = next(d.value for d in at.dataframe if "outputs" in d.value.columns)
    assert list(preds["outputs"]) == ["categories Pain, Anger, Annoyance, dominance -0.10"]
