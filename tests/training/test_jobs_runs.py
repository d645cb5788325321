"""Run rows before and after training: labelled counts and launch checks, the early-stop reason."""
from __future__ import annotations

import pytest

from core.jobs.preflight import check_launch, counts_table, labelled_counts
from core.jobs.status import RunStatus
from core.jobs.store import create_run, submit_job
from core.store.datasets import dataset_taxonomy, require_dataset
from core.store.db import read_session
from core.train_config import CHOICES, IMAGE_BACKBONES, TrainConfig
from tests.training.tiny import import_tiny, tiny_config
from training import runs
from training.data import load_rows
from training.eval_run import rows_labelled
from training.loop import Trainer, train

COUNTS = {"train": {"samples": 10, "emotion": 10, "va": 6, "stress": 0},
          "val": {"samples": 4, "emotion": 4, "va": 0, "stress": 0},
          "test": {"samples": 3, "emotion": 0, "va": 0, "stress": 0}}


def test_labelled_counts_match_what_training_loads(env):
    import_tiny(env, 32)
    with read_session() as s:
        counts = labelled_counts(s, 1)
        classes = list(dataset_taxonomy(require_dataset(s, "tiny")).classes)
        loaded = {split: rows_labelled(load_rows(s, 1, split, classes)) for split in ("train", "val")}
    assert set(counts) == {"train", "val"}
    assert counts["train"]["samples"] == 24 and counts["val"]["samples"] == 8  # a quarter val
    for split, labelled in loaded.items():
        assert {t: counts[split][t] for t in labelled} == labelled
    assert counts["train"]["stress"] < 24  # every 5th stress label missing, some derived
    row = counts_table(counts)[0]
    assert row["split"] == "train" and row["valence/arousal"] == counts["train"]["va"]


@pytest.mark.parametrize("train_split,val_split,tasks,errors,warnings", [
    ("train", "val", ["emotion"], [], []),
    ("train", "val", ["emotion", "va"], [], ["no valence/arousal labels in validation split 'val'"]),
    ("train", "val", ["emotion", "stress"], [], ["no stress labels in split 'train'"]),
    ("train", "val", ["va"], ["validation split 'val' has no labels"], []),
    ("train", "test", ["emotion"], ["validation split 'test' has no labels"], []),
    ("train", "val", ["stress"], ["split 'train' has no labels for the chosen tasks"],
     ["no stress labels in split 'train'"]),
    ("classifier", "finetune", ["emotion"], ["split 'classifier' has no samples"], []),
    (None, None, ["emotion", "va"], [], []),
])
def test_check_launch(train_split, val_split, tasks, errors, warnings):
    out = check_launch(COUNTS, train_split=train_split, val_split=val_split, tasks=tasks)
    assert len(out["errors"]) == len(errors) and len(out["warnings"]) == len(warnings), out
    for want, got in zip(errors + warnings, out["errors"] + out["warnings"]):
        assert got.startswith(want) or want in got, (want, got)


def test_early_stop_is_a_success_with_its_reason(env, monkeypatch):
    import_tiny(env, 32)
    record = Trainer.record
    monkeypatch.setattr(Trainer, "record", lambda self, *a: {**record(self, *a), "score": 0.0})
    cfg = tiny_config(epochs=5, patience=2)  # a flat score: no improvement after epoch 1
    result = train(cfg)
    reason = "stopped early at epoch 3/5: no improvement for 2 epochs"
    assert result["status"] == RunStatus.SUCCEEDED and result["epochs_done"] == 3
    assert result["stop_reason"] == reason
    row = runs.get_run(result["run_id"])
    assert row["status"] == "succeeded" and row["stop_reason"] == reason
    assert train(cfg, run_id=result["run_id"])["stop_reason"] == reason  # kept when resumed


def test_one_create_run_and_job_kinds(env):
    import_tiny(env, 16)
    run_id = create_run(tiny_config(name="mine"))
    row = runs.get_run(run_id)
    assert row["status"] == "queued" and row["name"] == "mine" and row["config"]["epochs"] == 2
    with pytest.raises(LookupError, match="no dataset named 'nope'"):
        create_run({"dataset": "nope"})
    with pytest.raises(ValueError, match="unknown job kind"):
        submit_job("dance", run_id=run_id)
    with pytest.raises(LookupError, match="no run with id 99"):
        submit_job("evaluate", run_id=99)


def test_form_choices_come_from_train_config():
    assert set(IMAGE_BACKBONES) == set(CHOICES["backbone"]) - {"features_mlp"}
    assert "mobilenet_v2" in IMAGE_BACKBONES
    with pytest.raises(ValueError, match="backbone must be one of mini_xception"):
        TrainConfig(backbone="vgg")
