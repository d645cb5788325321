"""`affectlab ssl pretrain|classify|finetune|compare` on a tiny synthetic OpenFace dataset."""
from __future__ import annotations

import pytest
import torch
from sqlalchemy import select

from core.model.checkpoint import load_checkpoint
from core.store.models import Run

TINY = ("--batch-size", "16", "--kinds", "openface_au,openface_pose")


def test_pretrain_classify_finetune_chain(cli, openface, env, read):
    rc, enc, err = cli("ssl", "pretrain", "--dataset", openface, "--epochs", "2", "--out-dir", env / "enc",
                       *TINY, "--json")
    assert rc == 0, err
    assert enc["objective"] == "masked_reconstruction" and len(enc["history"]) == 2
    _, cfg, meta = load_checkpoint(enc["checkpoint"])
    assert cfg.backbone == "features_mlp" and meta["extra"]["features"] == ["openface_au", "openface_pose"]
    assert enc["checkpoint"].startswith(str(env / "enc"))

    rc, cls, err = cli("ssl", "classify", "--dataset", openface, "--init", enc["checkpoint"], "--epochs", "1",
                       *TINY, "--json")
    assert rc == 0, err
    assert cls["init"] == enc["checkpoint"] and cls["metrics"]["combined"] is not None
    with read() as s:
        run = s.get(Run, cls["run_id"])
        assert run.status == "succeeded" and run.config["stage"] == "classifier"

    rc, ft, err = cli("ssl", "finetune", "--dataset", openface, "--init", cls["checkpoint"], "--epochs", "1",
                      *TINY, "--json")
    assert rc == 0, err
    subjects = [r["subject"] for r in ft["subjects"]]
    assert subjects and subjects == sorted(subjects)
    assert all(r["before"]["combined"] is not None and r["metrics"]["combined"] is not None
               for r in ft["subjects"])
    rc, one, _ = cli("ssl", "finetune", "--dataset", openface, "--init", cls["checkpoint"], "--epochs", "1",
                     "--subject", subjects[0], *TINY, "--json")
    assert rc == 0 and [r["subject"] for r in one["subjects"]] == [subjects[0]]


def test_probe_freezes_the_encoder(cli, openface, env):
    rc, enc, _ = cli("ssl", "pretrain", "--dataset", openface, "--epochs", "1", "--out-dir", env / "enc",
                     *TINY, "--json")
    assert rc == 0
    rc, probe, err = cli("ssl", "classify", "--dataset", openface, "--init", enc["checkpoint"], "--probe",
                         "--epochs", "2", *TINY, "--json")
    assert rc == 0, err
    before, _, _ = load_checkpoint(enc["checkpoint"])
    after, _, _ = load_checkpoint(probe["checkpoint"])
    for (name, a), (_, b) in zip(before.backbone.state_dict().items(), after.backbone.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_compare_reports_gains_per_stage(cli, openface, read):
    rc, out, err = cli("ssl", "compare", "--dataset", openface, "--pretrain-epochs", "1", "--epochs", "1",
                       "--finetune-epochs", "1", *TINY, "--json")
    assert rc == 0, err
    for stage in ("encoder", "classifier", "finetune"):
        gain = out["stages"][stage]["gain"]["combined"]
        assert gain == pytest.approx(out["stages"][stage]["ssl"]["combined"]
                                     - out["stages"][stage]["scratch"]["combined"])
    with read() as s:
        assert len(s.scalars(select(Run.id)).all()) >= 4  # probe and classifier, both arms


def test_errors_name_the_problem(cli, env):
    from tests.training.tiny import import_tiny

    import_tiny(env, n=16)  # no pretrain/ssl splits
    rc, out, err = cli("ssl", "pretrain", "--dataset", "tiny", "--json")
    assert rc == 1 and out["ok"] is False and "no samples in the pre-training splits" in err
    rc, out, err = cli("ssl", "pretrain", "--dataset", "tiny", "--modality", "audio")
    assert rc == 2 and "'audio' is not one of" in err
    rc, _, err = cli("ssl", "finetune", "--dataset", "tiny")
    assert rc == 2 and "--init" in err
