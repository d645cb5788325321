"""core.store.review: sources (runs and run-less model predictions), orderings, metrics by concept."""
from __future__ import annotations

import numpy as np
import pytest

from core.metrics import evaluate_predictions
from core.store.models import Run, Sample
from core.store.predictions import record_predictions
from core.store.review import review_metrics, review_rows, review_sources, review_summary
from core.taxonomy import AFFECTNET8, FER7
from tests.store.seed import seed_samples


def _seed(s) -> None:
    """16 samples (AFFECTNET8[i % 8]); a FER-7 model (run-less) that says 'Angry' for Anger and
    'Happy' for everything else; run 1 evaluated on 4 of them."""
    seed_samples(s, 16, dataset="d")
    rows = []
    for sid in range(1, 17):
        true = s.get(Sample, sid).cur_emotion
        pred = "Angry" if true == "Anger" else "Happy"
        rows.append({"sample_id": sid, "model_version": "fer7", "probs": {c: 0.9 if c == pred else 0.1 / 6
                                                                         for c in FER7}})
    record_predictions(s, rows)
    s.add(Run(id=1, name="tiny", dataset_id=1, status="succeeded"))
    s.flush()
    record_predictions(s, [{"sample_id": sid, "run_id": 1, "model_version": "run-1", "split": "test",
                            "probs": {"Happy": 1.0}, "loss": sid / 10} for sid in (1, 2, 3, 4)])


def test_sources_and_orders(write, read):
    with write() as s, s.begin():
        _seed(s)
    with read() as s:
        run, model = review_sources(s)
        assert (run.run_id, run.splits) == (1, ("test",)) and "run 1 · tiny" in run.label
        assert model.run_id is None and model.model_version == "fer7" and "no training run" in model.label
        assert [r["id"] for r in review_rows(s, run, order="worst")] == [4, 3, 2, 1]
        worst = [r["id"] for r in review_rows(s, model, order="worst", limit=16)]
        happy = [i for i in range(1, 17) if s.get(Sample, i).cur_emotion == "Happy"]
        assert set(worst[-4:]) == {*happy, *[i for i in range(1, 17) if s.get(Sample, i).cur_emotion == "Anger"]}
        anger = review_rows(s, model, order="random", true_emotion="Anger", pred_emotion="Anger")
        assert anger and all(r["pred_emotion"] == "Angry" for r in anger)  # any spelling of the class


def test_metrics_match_core_metrics_by_concept(write, read):
    with write() as s, s.begin():
        _seed(s)
    with read() as s:
        model = review_sources(s)[1]
        summary = review_summary(s, model)
    emo = summary["metrics"]["emotion"]
    assert emo["classes"] == AFFECTNET8  # 'Angry' is Anger: no extra class
    t = [AFFECTNET8.index(e) for e in summary["arrays"]["true"]]
    p = [AFFECTNET8.index("Anger") if e == "Angry" else AFFECTNET8.index("Happy") for e in summary["arrays"]["pred"]]
    expected = evaluate_predictions(emotion_true=t, emotion_pred=p, classes=AFFECTNET8)
    assert emo["macro_f1"] == pytest.approx(expected["macro_f1"]) and emo["confusion"] == expected["emotion"]["confusion"]


def test_a_class_only_the_model_knows_is_appended():
    arrays = {"true": np.array(["Happy", "Sad", None], dtype=object),
              "pred": np.array(["Happy", "Bored", "Happy"], dtype=object),
              **{k: np.full(3, np.nan) for k in ("valence", "arousal", "pred_valence", "pred_arousal",
                                                  "stress", "pred_stress")}}
    emo = review_metrics(arrays, ["Happy", "Sad"])["emotion"]
    assert emo["classes"] == ["Happy", "Sad", "Bored"] and emo["n"] == 2
    assert emo["confusion"] == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
