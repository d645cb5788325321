"""AppTest of the Relabel page: save-and-next, V/A and stress, undo, the conflict message, queues."""
from __future__ import annotations

from core.store.db import read_session, write_session
from core.store.labels import edit_label, label_history
from core.store.models import Sample
from core.store.predictions import record_predictions
from ui.circumplex import va_from_selection


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
    at = app("relabel", relabel_queue=[5])
    at.button(key=f"{_key(at)}-b6").click().run()  # Anger, nothing else touched
    at.button(key="save").click().run()
    smp = _sample(5)
    assert smp.cur_emotion == "Anger" and smp.cur_sources == {
        "emotion": "human", "valence": "imported", "arousal": "imported", "stress": "imported"}


def test_undo_brings_the_previous_label_back(app):
    at = app("relabel", relabel_queue=[6])
    before = _sample(6).cur_emotion
    at.button(key=f"{_key(at)}-b1").click().run()
    at.button(key="save").click().run()
    assert _sample(6).cur_emotion == "Happy"
    at.button(key="back").click().run()
    at.button(key="undo").click().run()
    assert not at.exception and at.success[0].value.startswith("Undid")
    assert _sample(6).cur_emotion == before


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


def test_likely_wrong_queue_orders_confident_disagreements_first(app):
    with write_session() as s, s.begin():
        record_predictions(s, [
            {"sample_id": 12, "model_version": "m", "probs": {"Happy": 0.6, "Surprise": 0.4}},
            {"sample_id": 11, "model_version": "m", "probs": {"Happy": 0.95, "Sad": 0.05}},
            {"sample_id": 2, "model_version": "m", "probs": {"Happy": 0.9, "Sad": 0.1}},  # agrees
            {"sample_id": 18, "model_version": "m", "probs": {"Happy": 0.4, "Sad": 0.3}}])  # unsure
    at = app("relabel")
    at.sidebar.radio(key="relabel_mode").set_value("likely wrong").run()
    assert at.session_state["rq"] == [11, 12, 18]
    at.sidebar.radio(key="relabel_mode").set_value("unlabelled").run()
    assert "queue is empty" in at.info[0].value


def test_circumplex_click_is_read_from_the_selection_event():
    assert va_from_selection({"selection": {"points": [{"x": 0.35, "y": -0.8}]}}) == (0.35, -0.8)
    assert va_from_selection({"selection": {"points": [{"x": 2.0, "y": -3}]}}) == (1.0, -1.0)
    assert va_from_selection({"selection": {"points": []}}) is None and va_from_selection(None) is None
