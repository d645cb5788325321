"""AppTest of the Review page: orderings, confusion-cell filter, per-class table, fix-label hand-over."""
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


def test_no_runs_yet(app):
    at = app("review")
    assert "No evaluated runs yet" in at.info[0].value
