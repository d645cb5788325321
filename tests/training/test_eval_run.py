"""evaluate_run on a 1-epoch tiny run: metrics, stored Prediction rows, per-sample losses, CLI."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from sqlalchemy import func, select

from core.config import REPO_ROOT
from core.metrics import ccc
from core.store.models import Prediction, Run, Sample
from tests.training.tiny import import_tiny, tiny_config
from training.eval_run import evaluate_run
from training.loop import train


@pytest.fixture
def run_id(env) -> int:
    import_tiny(env)
    return train(tiny_config(epochs=1))["run_id"]


def stored(read, run_id: int, split: str) -> list[tuple[Prediction, Sample]]:
    with read() as s:
        rows = s.execute(select(Prediction, Sample).join(Sample, Sample.id == Prediction.sample_id)
                         .where(Prediction.run_id == run_id, Prediction.split == split)
                         .order_by(Prediction.id)).all()
        s.expunge_all()
        return [tuple(r) for r in rows]


def test_metrics_match_the_stored_rows(run_id, read):
    r = evaluate_run(run_id, split="val")
    assert {"accuracy", "macro_f1", "ccc_valence", "ccc_arousal", "stress_auroc", "stress_f1",
            "combined", "emotion", "valence", "arousal", "stress", "sample_loss_mean"} <= set(r)
    assert {"per_class", "confusion", "classes"} <= set(r["emotion"])
    assert {"ccc", "pearson", "rmse", "mae"} <= set(r["valence"]) and r["stress"]["auroc"] is not None
    rows = stored(read, run_id, "val")
    assert r["n"] == r["stored"] == len(rows) == 16
    assert {p.model_version for p, _ in rows} == {f"run-{run_id}"}
    assert all(p.flags == {"emotion": "trained", "va": "trained", "stress": "trained"} for p, _ in rows)
    correct = np.array([p.emotion == s.cur_emotion for p, s in rows])
    assert math.isclose(correct.mean(), r["accuracy"])
    assert sum(map(sum, r["emotion"]["confusion"])) == len(rows)
    assert math.isclose(ccc([s.cur_valence for _, s in rows], [p.valence for p, _ in rows]),
                        r["ccc_valence"], rel_tol=1e-6)
    assert all(s.pred_emotion == p.emotion and s.has_prediction for p, s in rows)
    # the loss holds the emotion cross-entropy (weight 1) plus non-negative V/A and stress terms
    losses = np.array([p.loss for p, _ in rows])
    ce = np.array([-math.log(p.probs[s.cur_emotion]) for p, s in rows])
    assert np.all(losses >= ce - 1e-6)
    assert math.isclose(losses.mean(), r["sample_loss_mean"], rel_tol=1e-9)
    assert 0 < correct.sum() < len(rows), "the tiny run should get some right and some wrong"
    assert losses[~correct].mean() > losses[correct].mean()


def test_eval_metrics_merge_into_the_run_row(run_id, read):
    evaluate_run(run_id, split="val")
    evaluate_run(run_id, split="train")
    with read() as s:
        metrics = s.get(Run, run_id).metrics
    assert set(metrics["eval"]) == {"val", "train"} and metrics["history"] and metrics["best"]
    assert metrics["eval"]["train"]["n"] == 48 and metrics["eval"]["val"]["accuracy"] is not None


def test_no_store_writes_nothing(run_id, read):
    r = evaluate_run(run_id, split="val", store=False)
    assert r["stored"] == 0 and r["n"] == 16
    with read() as s:
        assert s.scalar(select(func.count()).select_from(Prediction)) == 0
        assert "eval" not in s.get(Run, run_id).metrics
    with pytest.raises(ValueError, match="no samples in split 'test'"):
        evaluate_run(run_id, split="test")


def test_untrained_heads_are_flagged_prior_and_left_out_of_the_loss(env, read):
    import_tiny(env)
    run = train(tiny_config(epochs=1, tasks=["emotion"]))["run_id"]
    r = evaluate_run(run, split="val")
    assert r["flags"] == {"emotion": "trained", "va": "prior", "stress": "prior"}
    for p, s in stored(read, run, "val"):
        assert p.flags["va"] == "prior" and math.isclose(p.loss, -math.log(p.probs[s.cur_emotion]),
                                                         rel_tol=1e-5)


def test_cli_report_and_json(run_id, capsys):
    from cli.app import main

    assert main(["evaluate", "--run", str(run_id), "--split", "val", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro-F1" in out and "confusion" in out and "AUROC" in out
    proc = subprocess.run([sys.executable, "-m", "core", "evaluate", "--run", str(run_id),
                           "--split", "val", "--json"], cwd=REPO_ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["ok"] and result["run_id"] == run_id and result["stored"] == 16
    assert result["emotion"]["confusion"] and result["accuracy"] is not None
