"""AppTest of the Browse page: filters, keyset pages, detail view with history, hand-over to Relabel."""
from __future__ import annotations

from core.ingest import import_path
from core.store.db import write_session
from core.store.labels import edit_label
from core.store.models import Sample
from tests.helpers import write_affectnet_csv


def _ids(at) -> list[int]:
    return [int(b.key.rsplit("-", 1)[1]) for b in at.button if b.key and b.key.startswith("browse-open-")]


def test_grid_pages_through_all_samples(app):
    at = app("browse")
    assert at.caption[0].value.startswith("40 samples match")
    first = _ids(at)
    assert first == list(range(1, 41))  # one page holds 48
    assert at.button(key="next").disabled and at.button(key="prev").disabled


def test_emotion_and_split_filters(app):
    at = app("browse")
    at.sidebar.multiselect(key="f_emotion").set_value(["Happy", "Sad"]).run()
    assert at.caption[0].value.startswith("10 samples match")
    with write_session() as s:
        emotions = {s.get(Sample, i).cur_emotion for i in _ids(at)}
    assert emotions == {"Happy", "Sad"}
    at.sidebar.multiselect(key="f_split").set_value(["train"]).run()
    assert 0 < len(_ids(at)) < 10
    at.sidebar.slider(key="f_valence").set_value((0.5, 1.0)).run()
    with write_session() as s:
        assert all(s.get(Sample, i).cur_valence >= 0.5 for i in _ids(at))


def test_source_filter_and_detail_history(app):
    with write_session() as s, s.begin():
        edit_label(s, 7, base_annotation_id=s.get(Sample, 7).cur_annotation_id, annotator="ana",
                   emotion="Fear")
    at = app("browse")
    at.sidebar.multiselect(key="f_source").set_value(["human"]).run()
    assert _ids(at) == [7]
    at.button(key="browse-open-7").click().run()
    assert not at.exception
    assert "Sample #7" in [h.value for h in at.subheader]
    history = at.dataframe[0].value
    assert list(history["who"])[0] == "ana" and "emotion Fear" in list(history["after"])[0]
    assert "emotion Anger" in list(history["before"])[0]
    at.button(key="relabel-7").click().run()
    assert at.session_state["relabel_queue"] == [7]


def test_keyset_next_and_previous(app, seeded):
    import_path("csv", write_affectnet_csv(seeded / "more", 30, seed=5), dataset="demo")
    at = app("browse")
    assert len(_ids(at)) == 48
    at.button(key="next").click().run()
    assert _ids(at) == list(range(49, 71))
    at.button(key="prev").click().run()
    assert _ids(at)[0] == 1


def _selection(*ids: int) -> dict:
    """The plotly_chart state a lasso over these samples leaves (customdata = [sample id])."""
    return {"selection": {"points": [{"x": 0.0, "y": 0.0, "customdata": [i], "point_index": k,
                                      "curve_number": 0} for k, i in enumerate(ids)],
                          "point_indices": list(range(len(ids))), "box": [], "lasso": [{"x": [], "y": []}]}}


def test_va_lasso_filters_and_clear_plot_selection_clears_it(app):
    at = app("browse", browse_tab="Valence / arousal")
    at.session_state["va_scatter-0"] = _selection(3, 5)
    at.run()
    assert not at.exception, at.exception
    assert "2 selected on the V/A plot" in at.caption[0].value
    at.button(key="va_clear").click().run()  # the chart still holds its lasso: it must not come back
    assert at.caption[0].value.startswith("40 samples match") and "selected" not in at.caption[0].value
    at.run()
    assert "selected" not in at.caption[0].value
    at.session_state["browse_tab"] = "Faces"
    at.run()
    assert _ids(at) == list(range(1, 41))


def test_va_selection_survives_a_tab_switch_and_filters_the_faces(app):
    at = app("browse", browse_tab="Valence / arousal")
    at.session_state["va_scatter-0"] = _selection(3, 5, 9)
    at.run()
    at.session_state["browse_tab"] = "Faces"
    at.run()
    assert _ids(at) == [3, 5, 9] and at.caption[0].value.startswith("3 samples match")
    at.session_state["browse_tab"] = "Valence / arousal"
    at.run()  # the redrawn chart has no selection of its own: the filter stays
    assert "3 selected on the V/A plot" in at.caption[0].value


def test_detail_dialog_steps_through_the_page(app):
    at = app("browse")
    at.button(key="browse-open-3").click().run()
    assert "Sample #3" in [h.value for h in at.subheader]
    at.button(key="detail_next").click().run()
    assert "Sample #4" in [h.value for h in at.subheader]
    at.button(key="detail_prev").click().run()
    at.button(key="detail_prev").click().run()
    assert "Sample #2" in [h.value for h in at.subheader]
    assert any(c.value == "2 of 40 on this page" for c in at.caption)
