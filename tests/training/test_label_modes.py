"""A tiny end-to-end run per label mode on generated data learns something measurable, is evaluated
with the mode's metrics, stores predictions.outputs and predicts through the Predictor."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import select

from core.inference.predictor import Predictor
from core.model.checkpoint import load_checkpoint
from core.store.models import Prediction, Run
from tests.training import modes_data as md
from training.eval_run import evaluate_run
from training.loop import run_dir, train
from training.state import load_state

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/training/conftest.py


def _outputs(read, run_id: int) -> list[dict]:
    with read() as s:
        return [p.outputs for p in s.scalars(select(Prediction).where(Prediction.run_id == run_id))]


def test_multi_label_run_beats_chance_and_carries_its_thresholds(env, read):
    dataset = md.multi_label_dataset()
    result = train(md.modes_config(dataset, epochs=5))
    assert result["status"] == "succeeded"
    _, config, meta = load_checkpoint(result["checkpoint"])
    assert config.emotion_mode == "multi" and config.multi_label and config.dominance
    assert config.label_schema["emotion_mode"] == "multi"
    assert config.trained["emotion"] and config.trained["dominance"]
    assert set(config.thresholds) == set(md.CLASSES)  # tuned on validation, kept in best.pt
    assert config.thresholds == meta["metrics"]["val"]["tuned_thresholds"]
    assert load_state(run_dir(result["run_id"]) / "state.pt")["thresholds"] == config.thresholds  # resumable
    with read() as s:
        metrics = s.get(Run, result["run_id"]).metrics
    assert metrics["score_name"] == "map+ccc_vad" == metrics["history"][-1]["score_name"]

    ev = evaluate_run(result["run_id"], split="test")
    positives = ev["emotions"]["per_class"]
    base_rate = np.mean([v["support"] for v in positives.values()]) / ev["emotions"]["n"]
    assert ev["map"] > max(0.8, base_rate + 0.3)  # chance mAP is about the base rate (~0.35)
    assert ev["micro_f1"] > 0.7 and ev["combined_name"] == "map+ccc_vad"
    assert {"precision", "recall", "f1", "ap", "threshold"} <= set(positives["Red"])
    outputs = _outputs(read, result["run_id"])
    assert len(outputs) == ev["n"] and set(outputs[0]) == {"emotions", "thresholds", "dominance"}
    assert outputs[0]["thresholds"] == config.thresholds

    rng = np.random.default_rng(5)
    shown = [np.array([1.0, 0, 0, 1.0]), np.array([0, 1.0, 1.0, 0])]
    preds = Predictor(result["checkpoint"], backend="torch").predict_crops(
        [md.patterned(levels, rng) for levels in shown])
    for pred in preds:
        assert pred.mode == "multi" and -1 <= pred.dominance <= 1
        assert pred.emotions == [c for c in md.CLASSES if pred.probs[c] >= config.thresholds[c]]
        assert pred.to_dict()["emotions"] == pred.emotions
    assert preds[0].probs["Red"] > preds[1].probs["Red"]
    assert preds[1].probs["Green"] > preds[0].probs["Green"]


def test_distribution_run_beats_the_uniform_baseline(env, read):
    dataset = md.distribution_dataset()
    result = train(md.modes_config(dataset, epochs=5))
    ev = evaluate_run(result["run_id"], split="test")
    dist = ev["distribution"]
    assert dist["kl"] < 0.75 * dist["kl_uniform"] and ev["combined_name"] == "kl_skill"
    assert ev["top1_agreement"] > 0.5  # chance: 0.25
    assert ev["emotion"]["confusion"] and set(dist["ccc_per_class"]) == set(md.CLASSES)
    outputs = _outputs(read, result["run_id"])
    assert all(math.isclose(sum(o["distribution"].values()), 1.0, rel_tol=1e-5) for o in outputs)
    pred = Predictor(result["checkpoint"], backend="torch").predict_crops(
        [md.patterned(np.array([0, 0, 1.0, 0]), np.random.default_rng(1))])[0]
    assert pred.mode == "distribution" and pred.emotions is None
    assert pred.to_dict()["mode"] == "distribution"


def test_named_target_run_reaches_ccc_and_stays_in_range(env, read):
    dataset = md.traits_dataset()
    result = train(md.modes_config(dataset, epochs=5))
    _, config, _ = load_checkpoint(result["checkpoint"])
    assert config.target_ranges == {"openness": [0.0, 1.0], "sentiment": [-3.0, 3.0]}
    assert config.trained["openness"] and config.trained["sentiment"] and not config.trained["emotion"]
    ev = evaluate_run(result["run_id"], split="test")
    assert ev["ccc_targets"] > 0.3 and ev["combined_name"] == "ccc_targets"
    assert ev["targets"]["openness"]["ccc"] > 0.3
    assert 0 < ev["targets"]["openness"]["one_minus_mae"] <= 1 and ev["targets"]["sentiment"]["rmse"] > 0
    outputs = _outputs(read, result["run_id"])
    assert all(-3 <= o["targets"]["sentiment"] <= 3 for o in outputs)
    assert set(outputs[0]) == {"distribution", "targets"}  # the (untrained) emotion head too
    dark, light = Predictor(result["checkpoint"], backend="torch").predict_crops(
        [md.patterned(np.zeros(4), np.random.default_rng(2), g) for g in (0.1, 0.9)])
    assert dark.targets["openness"] < light.targets["openness"]
    assert dark.flags["openness"] == "trained" and dark.flags["va"] == "prior"
    assert set(dark.to_dict()["targets"]) == {"openness", "sentiment"}
