"""AppTest of the Relabel page: save-and-next, V/A and stress, undo, the conflict message, queues,
accepting the model's label, who is labelling (kept in the URL, anonymous only by choice)."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.store.db import read_session, write_session
from core.store.labels import edit_label, label_history
from core.store.models import Annotation, Sample
from core.store.predictions import record_predictions
from ui.circumplex import circumplex_figure, va_from_selection


def _key(at) -> str:
    return next(b.key for b in at.button if b.key and b.key.endswith("-b0")).rsplit("-", 1)[0]


def _sample(i: int) -> Sample:
    with read_session() as s:
        return s.get(Sample, i)


def test_save_and_next_records_a_human_label_with_the_annotator(app):
    at = app("relabel", relabel_queue=[3, 4], annotator="ana")
    key = _key(at)
    at.button(key=f"{key}-b2").click().run()  # Sad
    at.slider(key=f"{key}-v").set_value(-0.6).run()
    at.slider(key=f"{key}-a").set_value(-0.2).run()
    at.slider(key=f"{key}-stress").set_value(0.8).run()
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample #3")
    smp = _sample(3)
    assert (smp.cur_emotion, smp.cur_valence, smp.cur_arousal, smp.cur_stress) == ("Sad", -0.6, -0.2, 0.8)
    with read_session() as s:
        assert label_history(s, 3)[0].annotator == "ana"
    assert "2 of 2" in at.caption[0].value  # moved on to the next sample


def test_untouched_fields_keep_their_source(app):
    at = app("relabel", relabel_queue=[5], annotator="cy")
    at.button(key=f"{_key(at)}-b6").click().run()  # Anger, nothing else touched
    at.button(key="save").click().run()
    smp = _sample(5)
    assert smp.cur_emotion == "Anger" and smp.cur_sources == {
        "emotion": "human", "valence": "imported", "arousal": "imported", "stress": "imported"}


def _chosen(at) -> str:
    return next(b.label for b in at.button if b.key and re.search(r"-b\d+$", b.key) and b.proto.type == "primary")


def test_undo_brings_the_previous_label_back(app):
    at = app("relabel", relabel_queue=[6], annotator="ana")
    before = _sample(6)
    at.button(key=f"{_key(at)}-b1").click().run()
    at.slider(key=f"{_key(at)}-v").set_value(0.9).run()
    at.button(key="save").click().run()
    assert _sample(6).cur_emotion == "Happy" and _sample(6).cur_valence == 0.9
    at.button(key="back").click().run()
    at.button(key="undo").click().run()
    assert not at.exception and _sample(6).cur_emotion == before.cur_emotion
    # the message says what is current again, in words, and whose edit was undone
    assert re.fullmatch(rf"Restored emotion {before.cur_emotion}, valence {before.cur_valence:.2f}, "
                        rf"arousal {before.cur_arousal:.2f} \(undid your edit of \d\d:\d\d UTC\)", at.success[0].value), at.success[0].value
    # the editor shows the restored label, not the undone values
    assert _chosen(at) == before.cur_emotion
    assert abs(at.slider(key=f"{_key(at)}-v").value - before.cur_valence) < 1e-9
    at.button(key=f"{_key(at)}-b2").click().run()  # the next save builds on the undo: no conflict
    at.button(key="save").click().run()
    assert not at.error and at.success[0].value.startswith("Saved sample")
    assert _sample(6).cur_emotion == "Sad"


def test_conflict_when_someone_saved_meanwhile(app):
    at = app("relabel", relabel_queue=[8], annotator="bob")
    with write_session() as s, s.begin():  # ana saves while bob looks at the sample
        edit_label(s, 8, base_annotation_id=s.get(Sample, 8).cur_annotation_id, annotator="ana",
                   emotion="Fear")
    at.button(key=f"{_key(at)}-b3").click().run()
    at.button(key="save").click().run()
    assert not at.success and "changed by ana" in at.error[0].value
    assert _sample(8).cur_emotion == "Fear"
    at.button(key="reload").click().run()  # bob looks again, now based on ana's label
    at.button(key=f"{_key(at)}-b3").click().run()
    at.button(key="save").click().run()
    assert at.success and _sample(8).cur_emotion == "Surprise"


def test_likely_wrong_queue_orders_by_label_quality(app):
    """cleanlab self-confidence p(label), lowest first; 11 Sad, 12 Surprise, 2 and 18 Happy."""
    with write_session() as s, s.begin():
        record_predictions(s, [
            {"sample_id": 12, "model_version": "m", "probs": {"Happy": 0.6, "Surprise": 0.4}},
            {"sample_id": 11, "model_version": "m", "probs": {"Happy": 0.95, "Sad": 0.05}},
            {"sample_id": 2, "model_version": "m", "probs": {"Happy": 0.9, "Sad": 0.1}},  # agrees
            {"sample_id": 18, "model_version": "m",  # agrees, unsure: p(Happy) 0.45
             "probs": {"Happy": 0.45, "Sad": 0.3, "Surprise": 0.25}}])
    at = app("relabel")
    at.sidebar.radio(key="relabel_mode").set_value("likely wrong").run()
    assert at.session_state["rq"] == [11, 12, 18]
    at.sidebar.radio(key="relabel_mode").set_value("unlabelled").run()
    assert "queue is empty" in at.info[0].value


def test_circumplex_click_is_read_from_the_selection_event():
    assert va_from_selection({"selection": {"points": [{"x": 0.35, "y": -0.8}]}}) == (0.35, -0.8)
    assert va_from_selection({"selection": {"points": [{"x": 2.0, "y": -3}]}}) == (1.0, -1.0)
    assert va_from_selection({"selection": {"points": []}}) is None and va_from_selection(None) is None


def test_circumplex_selects_the_clicked_point_on_the_first_click():
    """Streamlit 1.67 sets clickmode "event" (no selection on click) when dragmode is select/lasso."""
    layout = circumplex_figure(0.1, -0.2).layout
    assert layout.dragmode is False and layout.clickmode == "event+select"
    assert layout.xaxis.fixedrange and layout.yaxis.fixedrange  # nothing to pan instead


def test_accepting_or_correcting_the_models_label_records_the_prediction(app):
    with write_session() as s, s.begin():
        record_predictions(s, [{"sample_id": 12, "model_version": "m", "probs": {"Fear": 0.7, "Sad": 0.3},
                                "valence": -0.5, "arousal": 0.6, "flags": {"va": "prior"}},
                               {"sample_id": 13, "model_version": "m", "probs": {"Happy": 0.8, "Sad": 0.2}}])
    at = app("relabel", relabel_queue=[12, 13], annotator="ana")
    assert "model says **Fear** (70%)" in " ".join(m.value for m in at.markdown)
    before = _sample(12)
    at.button(key="accept").click().run()
    assert at.success[0].value.startswith("Saved sample #12")
    smp = _sample(12)  # the emotion accepted; V/A were a prior, so the label's stay
    assert (smp.cur_emotion, smp.cur_valence, smp.cur_sources["valence"]) == ("Fear", before.cur_valence, "imported")
    at.button(key=f"{_key(at)}-b2").click().run()  # a correction of sample 13's prediction
    at.button(key="save").click().run()
    with read_session() as s:
        preds = {a.sample_id: a.prediction_id for a in s.scalars(select(Annotation).where(
            Annotation.source == "human"))}
        from core.store.models import Prediction
        mine = dict(s.execute(select(Prediction.sample_id, Prediction.id)).all())
    assert preds == {12: mine[12], 13: mine[13]}


def test_annotator_comes_back_from_the_url_after_a_reload(seeded):
    from streamlit.testing.v1 import AppTest

    from core.config import REPO_ROOT

    def fresh_tab(**query) -> AppTest:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
        at.query_params.update(query)
        at.session_state["relabel_queue"] = [3, 4]
        at.run()
        at.switch_page("app_pages/relabel.py").run()
        return at

    at = fresh_tab()  # nobody chosen: nothing can be saved, and the page says so
    assert at.button(key="save").disabled and at.sidebar.warning
    at.sidebar.text_input(key="annotator_box").set_value("zoe").run()
    assert at.query_params["annotator"] == "zoe" and not at.button(key="save").disabled
    at = fresh_tab(**at.query_params)  # reload: the URL brings the name back
    assert at.sidebar.text_input(key="annotator_box").value == "zoe"
    at.button(key=f"{_key(at)}-b3").click().run()
    at.button(key="save").click().run()
    with read_session() as s:
        assert label_history(s, 3)[0].annotator == "zoe"


def test_anonymous_is_a_deliberate_choice(seeded):
    from streamlit.testing.v1 import AppTest

    from core.config import REPO_ROOT

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.session_state["relabel_queue"] = [5]
    at.run()
    at.switch_page("app_pages/relabel.py").run()
    at.sidebar.checkbox(key="annotator_anon").check().run()
    assert at.query_params["annotator"] == "anonymous" and not at.sidebar.warning
    at.button(key=f"{_key(at)}-b3").click().run()
    at.button(key="save").click().run()
    with read_session() as s:
        assert label_history(s, 5)[0].annotator == "anonymous"


def test_a_hosted_instance_can_require_a_name(seeded, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.config import REPO_ROOT

    monkeypatch.setenv("AFFECTLAB_REQUIRE_ANNOTATOR", "1")
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.query_params["annotator"] = "anonymous"  # an old link does not get around it
    at.session_state["relabel_queue"] = [5]
    at.run()
    at.switch_page("app_pages/relabel.py").run()
    assert not at.sidebar.checkbox and at.button(key="save").disabled
    assert at.button(key="undo").disabled and at.button(key="accept").disabled
    at.sidebar.text_input(key="annotator_box").set_value("anonymous").run()
    assert at.button(key="save").disabled
    at.sidebar.text_input(key="annotator_box").set_value("ida").run()
    assert not at.button(key="save").disabled
