"""SSL path: features_mlp backbone, feature data, pre-training objectives, the three stages."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sqlalchemy import delete, select

from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.features_mlp import features_config
from core.model.net import build_model
from core.store.datasets import require_dataset
from core.store.models import Feature, Run, Sample
from training.features_data import load_features, load_split_rows, ordered_kinds, standardisation
from training.ssl import SSLConfig, finetune_subject, finetune_subjects, run_ssl_pipeline, train_classifier
from training.ssl_objectives import MLPHead, nt_xent, random_mask
from training.ssl_pretrain import pretrain_masked
from training.ssl_synthetic import EMOTIONS, Spec, import_dataset, write_dataset
from training.ssl_synthetic import ssl_splits as split

KINDS = ["openface_au", "openface_gaze", "openface_pose", "openface_landmarks2d"]
TINY = dict(pretrain_epochs=3, epochs=2, finetune_epochs=2, batch_size=16, widths=[32, 16])


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/training/conftest.py


@pytest.fixture
def openface(env):
    """20 subjects x 8 frames (2 per emotion) through the OpenFace importer, split 70/30 then
    70/20/10: at least one subject in every split."""
    write_dataset(env / "of", Spec(subjects=20, frames=8, image_size=32, seed=1))
    import_dataset(env / "of", "of")
    counts = split("of", 0)
    assert {"pretrain", "ssl", "classifier", "finetune"} <= set(counts)
    return "of"


def test_features_mlp_heads_and_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(5, 7) * 10 + 3
    mean, std = standardisation(x.numpy())
    cfg = features_config(mean, std, classes=EMOTIONS, widths=[16, 8], dropout=0.2)
    model = build_model(cfg).eval()
    out = model(x)
    assert out["emotion"].shape == (5, 4) and out["va"].shape == (5, 2) and out["stress"].shape == (5, 1)
    assert model.backbone(x).shape == (5, 8, 1, 1)
    torch.testing.assert_close(model(x[:, :, None, None])["emotion"], out["emotion"])  # NCHW too
    z = model.backbone.standardise(x)
    torch.testing.assert_close(z.mean(0), torch.zeros(7), atol=1e-5, rtol=0)
    assert "backbone.mean" not in model.state_dict()  # the stats live in the config
    path = save_checkpoint(tmp_path / "f.pt", model)
    loaded, loaded_cfg, _ = load_checkpoint(path)
    assert loaded_cfg == cfg and loaded_cfg.channels == 7
    for k, v in loaded(x).items():
        torch.testing.assert_close(v, out[k])
    with pytest.raises(ValueError, match="expects 7 features"):
        model(torch.randn(2, 6))


def test_masked_reconstruction_loss_decreases():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(256, 3)) @ rng.normal(size=(3, 24)) + 0.1 * rng.normal(size=(256, 24)))
    x = (x * 5 + 40).astype(np.float32)
    mean, std = standardisation(x)
    torch.manual_seed(0)
    model = build_model(features_config(mean, std, classes=EMOTIONS, widths=[32, 16]))
    history = pretrain_masked(model, x, epochs=20, lr=3e-3, batch_size=32, hidden=32)
    assert history[-1] < 0.5 * history[0]
    mask = random_mask(50, 40, (0.3, 0.5), torch.Generator().manual_seed(0))
    frac = mask.float().mean(1)
    assert frac.min() >= 0.3 - 1e-6 and frac.max() <= 0.5 + 1e-6


def test_nt_xent_decreases_and_prefers_matched_views():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(64, 16, generator=g)
    z = torch.randn(64, 8, generator=g)
    assert nt_xent(z, z + 0.01 * torch.randn(64, 8, generator=g)) < nt_xent(z, torch.randn(64, 8, generator=g))
    torch.manual_seed(0)
    enc = MLPHead(16, 32, 8)
    opt = torch.optim.Adam(enc.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        a = base + 0.3 * torch.randn(64, 16, generator=g)  # two noisy views of each vector
        b = base + 0.3 * torch.randn(64, 16, generator=g)
        loss = nt_xent(enc(a), enc(b), temperature=0.2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:5])


def test_feature_rows_concatenate_kinds_in_fixed_order_and_name_a_missing_sample(openface, read, write):
    assert ordered_kinds(["openface_pose", "openface_au", "openface_au"]) == ["openface_au", "openface_pose"]
    with read() as s:
        ds = require_dataset(s, openface)
        rows = load_split_rows(s, ds.id, ["classifier"], EMOTIONS, kinds=["openface_pose", "openface_au"])
        au = load_features(s, rows.ids, ["openface_au"])
        pose = load_features(s, rows.ids, ["openface_pose"])
    np.testing.assert_array_equal(rows.x, np.concatenate([au, pose], 1))
    assert rows.x.shape == (len(rows), 35 + 6) and (rows.emotion >= 0).all()
    victim = int(rows.ids[3])
    with write() as s, s.begin():
        s.execute(delete(Feature).where(Feature.sample_id == victim, Feature.kind == "openface_gaze"))
    with read() as s, pytest.raises(ValueError, match=f"sample {victim} .* no openface_gaze features"):
        load_features(s, rows.ids, KINDS)


def test_pipeline_runs_three_stages_with_scratch_and_ssl_metrics(openface, read):
    result = run_ssl_pipeline(openface, modality="features", seed=0, **TINY)
    assert result["encoder"]["objective"] == "masked_reconstruction"
    assert result["encoder"]["splits"] == ["pretrain", "ssl"]
    for stage in ("encoder", "classifier", "finetune"):
        got = result["stages"][stage]
        for arm in ("scratch", "ssl"):
            assert got[arm]["macro_f1"] is not None and got[arm]["combined"] is not None, (stage, arm)
        assert got["gain"]["combined"] == pytest.approx(got["ssl"]["combined"] - got["scratch"]["combined"])
    ids = [*result["runs"]["probe"].values(), *result["runs"]["classifier"].values(),
           *result["runs"]["finetune"]["ssl"], *result["runs"]["finetune"]["scratch"]]
    with read() as s:
        runs = {r.id: r for r in s.scalars(select(Run).where(Run.id.in_(ids)))}
    assert len(runs) == len(ids) and all(r.status == "succeeded" for r in runs.values())
    _, cfg, meta = load_checkpoint(result["encoder"]["checkpoint"])
    assert cfg.backbone == "features_mlp" and meta["extra"]["features"] == KINDS


def test_scratch_stats_come_from_the_training_split(openface, read):
    cfg = SSLConfig(**TINY)
    out = train_classifier(openface, cfg)
    _, mc, meta = load_checkpoint(out["checkpoint"])
    with read() as s:
        rows = load_split_rows(s, require_dataset(s, openface).id, ["classifier"], EMOTIONS, kinds=KINDS)
    mean, std = standardisation(rows.x)
    assert mc.channels == rows.x.shape[1] and np.allclose(mc.mean, mean) and np.allclose(mc.std, std)
    assert meta["extra"]["train_config"]["features"] == KINDS
    assert sorted(out["train_ids"]) == sorted(rows.ids.tolist())


def test_finetune_uses_only_the_chosen_subjects_samples(openface, read):
    cfg = SSLConfig(**TINY)
    base = train_classifier(openface, cfg)
    subject = finetune_subjects(openface, cfg)[0]
    out = finetune_subject(openface, subject, cfg, init=base["checkpoint"])
    with read() as s:
        ds = require_dataset(s, openface)
        own = set(s.scalars(select(Sample.id).where(Sample.dataset_id == ds.id, Sample.subject == subject,
                                                   Sample.split == "finetune")))
        run = s.get(Run, out["run_id"])
    train, held = set(out["train_ids"]), set(out["eval_ids"])
    assert train and held and not train & held and train | held == own
    assert run.config["subject"] == subject and run.config["init"] == base["checkpoint"]
    assert out["before"]["combined"] is not None and out["metrics"]["combined"] is not None
    with pytest.raises(ValueError, match="no samples in the finetune split"):
        finetune_subject(openface, "nobody", cfg, init=base["checkpoint"])


def test_crops_pipeline_pretrains_with_simclr(openface):
    result = run_ssl_pipeline(openface, modality="crops", seed=0, pretrain_epochs=2, epochs=1,
                              finetune_epochs=1, batch_size=16, pretrain_batch_size=32,
                              widths=[4, 8, 16], input_size=32)
    assert result["encoder"]["objective"] == "simclr_nt_xent" and len(result["encoder"]["history"]) == 2
    _, cfg, _ = load_checkpoint(result["encoder"]["checkpoint"])
    assert (cfg.backbone, cfg.widths, cfg.input_size) == ("mini_xception", [4, 8, 16], 32)
    assert all(result["stages"][s]["ssl"]["combined"] is not None for s in ("encoder", "classifier", "finetune"))
