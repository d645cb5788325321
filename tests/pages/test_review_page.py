"""AppTest of the Review page: orderings, confusion-cell drill-down, per-class table, fix-label
hand-over, and a model's stored predictions reviewed without a training run."""
from __future__ import annotations

from core.store.db import read_session, write_session
from core.store.models import Run, Sample
from core.store.predictions import record_predictions
from core.taxonomy import AFFECTNET8


def _seed_predictions() -> None:
    """Run 1 predicted samples 1..16: right for odd ids, 'Happy' for even ids; loss = id / 10."""
    with write_session() as s, s.begin():
        s.add(Run(id=1, name="r", dataset_id=1, status="succeeded"))
        s.flush()
        rows = []
        for sid in range(1, 17):
            true = s.get(Sample, sid).cur_emotion
            pred = true if sid % 2 else "Happy"
            probs = {c: 0.0 for c in AFFECTNET8} | {pred: 0.5 + sid / 40}
            rows.append({"sample_id": sid, "run_id": 1, "split": "test", "model_version": "run-1",
                         "probs": probs, "valence": 0.0, "arousal": 0.0, "stress": 0.5, "loss": sid / 10,
                         "flags": {"emotion": "trained", "va": "trained", "stress": "trained"}})
        record_predictions(s, rows)


def _ids(at) -> list[int]:
    return [int(b.key.rsplit("-", 1)[1]) for b in at.button if b.key and b.key.startswith("review-open-")]


def test_orders_and_per_class_table(app):
    _seed_predictions()
    at = app("review")
    assert _ids(at)[:3] == [16, 15, 14]  # worst: highest loss first
    at.sidebar.selectbox(key="rv_order").set_value("best").run()
    assert _ids(at)[:3] == [1, 2, 3]
    at.sidebar.selectbox(key="rv_order").set_value("most confident wrong").run()
    wrong = _ids(at)
    with read_session() as s:
        assert all(s.get(Sample, i).cur_emotion != "Happy" for i in wrong)
    assert wrong[0] == 16 and all(i % 2 == 0 for i in wrong) and 2 not in wrong  # sample 2 is Happy
    at.session_state["rv_tab"] = "Per class"
    at.run()
    table = at.dataframe[0].value
    happy = table[table["class"] == "Happy"].iloc[0]
    assert happy["recall"] == 1.0 and happy["precision"] < 1.0


def test_confusion_cell_filters_and_fix_label_hands_over(app):
    _seed_predictions()
    at = app("review", rv_cell=("Surprise", "Happy"))
    ids = _ids(at)
    with read_session() as s:
        assert ids and all(s.get(Sample, i).cur_emotion == "Surprise" for i in ids) and sorted(ids) == [4, 12]
    at.button(key=f"review-open-{ids[0]}").click().run()
    assert at.session_state["relabel_queue"][0] == ids[0]


def test_clicking_a_confusion_cell_lists_its_samples(app):
    """A click on the matrix (plotly's point selection on a square marker) filters the grid."""
    _seed_predictions()
    at = app("review", rv_tab="Confusion matrix")
    chart = at.get("plotly_chart")[0]
    assert not at.exception and chart.proto.spec  # the square-marker matrix is drawn
    at.session_state["rv_cm-0"] = {"selection": {"points": [
        {"x": "Happy", "y": "Surprise", "customdata": ["Surprise", "Happy", 2], "point_index": 27,
         "curve_number": 0}], "point_indices": [27], "box": [], "lasso": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["rv_cell"] == ("Surprise", "Happy") and at.session_state["rv_tab"] == "Samples"
    assert sorted(_ids(at)) == [4, 12]
    assert any("showing true Surprise, predicted Happy" in c.value for c in at.caption)
    at.button(key="rv_clear").click().run()
    assert len(_ids(at)) == 16


def test_default_model_predictions_are_reviewed_without_a_run(app):
    """prelabel's rows (run_id NULL) are a source of their own; metrics as core.metrics gives."""
    from core.metrics import evaluate_predictions

    with write_session() as s, s.begin():
        rows, truth = [], []
        for sid in range(1, 41):
            true = s.get(Sample, sid).cur_emotion
            pred = true if sid % 4 else "Neutral"
            truth.append((AFFECTNET8.index(true), AFFECTNET8.index(pred)))
            rows.append({"sample_id": sid, "run_id": None, "model_version": "fer-default",
                         "split": s.get(Sample, sid).split, "probs": {pred: 0.8, true: 0.2} if pred != true
                         else {pred: 0.9}, "valence": 0.0, "arousal": 0.0, "stress": 0.5,
                         "flags": {"emotion": "trained", "va": "prior", "stress": "prior"}})
        record_predictions(s, rows)
    at = app("review", rv_tab="Per class")
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="rv_source").value.run_id is None
    assert "fer-default" in at.sidebar.selectbox(key="rv_source").value.label
    expected = evaluate_predictions(emotion_true=[t for t, _ in truth], emotion_pred=[p for _, p in truth],
                                    classes=AFFECTNET8)
    caption = next(c.value for c in at.caption if "macro-F1" in c.value)
    assert f"macro-F1 {expected['macro_f1']:.3f}" in caption and "40 labelled samples" in caption
    assert any("V/A and stress are a prior" in c.value for c in at.caption)
    at.session_state["rv_tab"] = "Samples"
    at.sidebar.selectbox(key="rv_order").set_value("worst").run()
    worst = _ids(at)[:10]
    assert worst and all(i % 4 == 0 for i in worst)  # p(label) 0.2 first


def test_no_predictions_yet(app):
    at = app("review")
    assert "No stored predictions yet" in at.info[0].value


def test_compare_a_run_with_a_later_snapshot(app):
    """Run 1 trained on snapshot v1; two even samples (predicted Happy) are then relabelled Happy
    and snapshot v2 is taken: the panel says the model was right on both."""
    from core.store.labels import edit_label
    from core.store.snapshots import create_snapshot

    with write_session() as s, s.begin():
        create_snapshot(s, "demo", "v1")
    _seed_predictions()
    with write_session() as s, s.begin():
        s.get(Run, 1).config = {"dataset": "demo", "snapshot": "v1"}
        for sid in (4, 6):
            edit_label(s, sid, base_annotation_id=s.get(Sample, sid).cur_annotation_id, annotator="ana",
                       emotion="Happy")
        create_snapshot(s, "demo", "v2")
    at = app("review")
    assert any("trained on v1" in e.label for e in at.expander)
    assert at.selectbox(key="rv_later_snapshot").value == "v2"
    verdicts = {m.label: m.value for m in at.metric}
    assert verdicts["model was right"] == "2" and verdicts["neither"] == "0"
    table = at.dataframe[0].value
    assert sorted(table["sample"]) == [4, 6] and set(table["model said"]) == {"Happy"}
