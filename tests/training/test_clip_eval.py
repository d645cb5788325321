"""training.clip_eval: a finished audio-visual clip run stores one prediction per clip with each
modality's outputs and per-clip loss (the same metrics training reported), and `evaluate` on a
clip run evaluates every clip again per modality."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from cli.app import main
from core.store.db import read_session
from core.store.models import Prediction, Run, Sample
from tests.training.clip_review_seed import seed_clip_run
from training.clip_eval import HELD_OUT, TRAINED_ON, evaluate_clip_run
from training.eval_run import evaluate_run


def _stored(run_id: int) -> list[Prediction]:
    with read_session() as s:
        return list(s.scalars(select(Prediction).where(Prediction.run_id == run_id).order_by(Prediction.id)))


def test_training_stores_per_clip_per_modality_predictions_and_evaluate_repeats_them(env, capsys):
    run_id = seed_clip_run(env)
    rows = _stored(run_id)
    assert len(rows) == 4 and [r.split for r in rows].count(HELD_OUT) == 1
    assert {r.split for r in rows} == {HELD_OUT, TRAINED_ON}
    with read_session() as s:
        run = s.get(Run, run_id)
        trained, evaluated = run.metrics["modalities"], run.metrics["eval"][HELD_OUT]["modalities"]
    assert set(evaluated) == set(trained)
    for r in rows:
        mods = r.outputs["modalities"]
        assert set(mods) == {"fused", "visual", "audio"} and r.loss == mods["fused"]["loss"]
        assert r.emotion == mods["fused"]["emotion"] and r.probs == mods["fused"]["probs"]
        with read_session() as s:
            sample = s.get(Sample, r.sample_id)
            label, stress, va = sample.cur_emotion, sample.cur_stress, (sample.cur_valence, sample.cur_arousal)
        assert va == (None, None) and stress is not None  # CREMA-D: an emotion, the stress it implies
        for entry in mods.values():  # cross-entropy of the current emotion + stress BCE
            p = entry["stress"]
            expected = -np.log(entry["probs"][label]) - stress * np.log(p) - (1 - stress) * np.log(1 - p)
            assert entry["loss"] == pytest.approx(expected, rel=1e-5)
    assert len({round(r.outputs["modalities"]["audio"]["loss"], 6) for r in rows}
               | {round(r.outputs["modalities"]["visual"]["loss"], 6) for r in rows}) > 1

    assert main(["evaluate", "--run", str(run_id)]) == 0  # the evaluate verb on a clip run
    text = capsys.readouterr().out.strip().splitlines()
    assert text[0] == f"run {run_id}: 4 clips (1 held out); 4 predictions stored"
    assert [line.split()[0] for line in text[1:]] == ["fused", "visual", "audio"] and "emotion_accuracy" in text[1]
    again = _stored(run_id)[4:]
    assert [r.sample_id for r in again] == [r.sample_id for r in rows]
    assert [r.loss for r in again] == pytest.approx([r.loss for r in rows])
    report = evaluate_clip_run(run_id, store=False)
    assert report["stored"] == 0 and report["held_out"] == 1 and len(_stored(run_id)) == 8
    assert all(report["modalities"][m] == pytest.approx(trained[m]) for m in trained)
    with pytest.raises(ValueError, match="is a clip run"):
        evaluate_run(run_id)
