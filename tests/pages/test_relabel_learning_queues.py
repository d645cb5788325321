"""AppTest: Relabel's learning queues (likely wrong, likely wrong V/A, label next) are offered in
the queue selector and say where their predictions came from."""
from __future__ import annotations

from core.store.db import write_session
from core.store.predictions import record_predictions


def test_learning_queues_name_their_prediction_source(app):
    with write_session() as s, s.begin():
        record_predictions(s, [{"sample_id": 11, "model_version": "ext-1", "probs": {"Happy": 0.95, "Sad": 0.05}},
                               {"sample_id": 2, "model_version": "ext-1", "probs": {"Happy": 0.9, "Sad": 0.1}}])
    at = app("relabel")
    options = at.sidebar.radio(key="relabel_mode").options
    assert {"likely wrong", "likely wrong V/A", "label next (uncertain)"} <= set(options)
    at.sidebar.radio(key="relabel_mode").set_value("likely wrong").run()
    assert not at.exception and at.session_state["rq"] == [11]
    caption = " ".join(c.value for c in at.caption).replace("\\", "")  # md() escapes markdown
    assert "1 samples · from held-out predictions of ext-1 (2)" in caption
    at.sidebar.radio(key="relabel_mode").set_value("label next (uncertain)").run()
    assert not at.exception and at.session_state["rq"] == []  # every sample is labelled
    assert "queue is empty" in at.info[0].value
    at.sidebar.radio(key="relabel_mode").set_value("likely wrong V/A").run()
    assert not at.exception
    assert any("cross-validation: no stored features" in c.value.replace("\\", "") for c in at.caption)
    at.sidebar.radio(key="relabel_mode").set_value("in order").run()
    assert not any("samples · from" in c.value for c in at.caption)


def test_source_text_of_each_source():
    from core.store.learning_queues import Queue
    from ui.learning_queues import source_text

    cv = Queue("likely-wrong", "emotion", [3, 1], [0.1, 0.2], "cross-val",
               {"features": "openface", "model": "logistic regression", "folds": 5})
    assert source_text(cv) == ("2 samples · from 5-fold cross-validated logistic regression over the 'openface' "
                               "features, folds grouped by video")
    un = Queue("uncertain", "emotion", [7], [0.9], "current model",
               {"model_versions": {"run-3": 40}, "uncertainty": "margin", "per_group": 3,
                "diversity": "k-center greedy over the predicted probabilities"})
    assert source_text(un) == ("1 samples · from the newest predictions of run-3; margin uncertainty, at most 3 "
                               "per video, k-center greedy over the predicted probabilities")
    cheap = Queue("uncertain", "emotion", [], [], "cheap model",
                  {"model": "logistic regression", "features": None, "trained_on": 0, "note": "too few labels"})
    assert source_text(cheap) == "0 samples · from no predictions and no features — too few labels"
