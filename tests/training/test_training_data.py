"""Training data: rows from the store, items, augmentation determinism, samplers, config."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.config import get_settings
from core.model.config import ModelConfig
from core.store.datasets import require_dataset
from core.train_config import TrainConfig
from tests.training.tiny import import_tiny, write_tiny_csv
from training.augment import Augment, apply
from training.data import AffectDataset, EpochSampler, balanced_sample_weights, inverse_frequency, load_rows


@pytest.fixture
def tiny(env, read):
    import_tiny(env)
    with read() as s:
        ds = require_dataset(s, "tiny")
        classes = ds.taxonomy["classes"]
        return {"train": load_rows(s, ds.id, "train", classes), "val": load_rows(s, ds.id, "val", classes),
                "all": load_rows(s, ds.id, None, classes, max_samples=10, seed=3), "classes": classes}


def test_load_rows_maps_labels_and_missing(tiny):
    train, val = tiny["train"], tiny["val"]
    assert len(train) == 48 and len(val) == 16 and len(tiny["all"]) == 10
    assert set(train.emotion.tolist()) == set(range(8))
    assert np.isnan(train.stress).sum() > 0  # every 5th stress label left empty in the CSV
    assert not np.isnan(train.va).any()
    assert train.labelled() == {"emotion": True, "va": True, "stress": True}


def test_dataset_items_and_seeded_augmentation(tiny):
    mc = ModelConfig.for_backbone("mini_xception")
    aug = Augment(hflip=True, rotate=15, color=0.2, crop=0.1)
    ds = AffectDataset(tiny["train"], get_settings().data_dir, mc, augment=aug, seed=1)
    item = ds[3]
    assert item["x"].shape == (1, 64, 64) and item["x"].dtype == torch.float32
    assert -1.0 <= item["x"].min() and item["x"].max() <= 1.0
    assert item["emotion"].dtype == torch.int64 and item["va"].shape == (2,) and item["stress"].shape == (1,)
    again = ds[3]["x"]
    ds.set_epoch(1)
    assert torch.equal(item["x"], again) and not torch.equal(item["x"], ds[3]["x"])
    plain = AffectDataset(tiny["train"], get_settings().data_dir, ModelConfig.for_backbone("resnet18"))
    assert plain[0]["x"].shape == (3, 112, 112)


def test_augment_apply_shapes(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (90, 70, 3), dtype=np.uint8)
    out = apply(img, Augment(), np.random.default_rng(5), 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert np.array_equal(out, apply(img, Augment(), np.random.default_rng(5), 64))
    write_tiny_csv(tmp_path, 8)
    assert (tmp_path / "imgs" / "7.png").exists()


def test_epoch_sampler_shards_and_balances():
    shards = [list(EpochSampler(10, seed=2, rank=r, world_size=3)) for r in range(3)]
    assert all(len(s) == 4 for s in shards)
    assert set(sum(shards, [])) == set(range(10))
    s = EpochSampler(10, seed=2)
    first = list(s)
    assert list(s) == first and sorted(first) == list(range(10))
    s.set_epoch(1)
    assert list(s) != first
    emotion = np.array([0] * 90 + [1] * 10 + [-1] * 5)
    w = balanced_sample_weights(emotion, 2)
    draws = list(EpochSampler(len(emotion), seed=0, weights=np.tile(w, 1)))
    counts = np.bincount(emotion[draws][emotion[draws] >= 0], minlength=2)
    assert abs(counts[0] - counts[1]) < 0.35 * counts.sum()
    iw = inverse_frequency(emotion, 3)
    assert iw[1] == pytest.approx(100 / (2 * 10)) and iw[2] == 1.0


def test_train_config_round_trip_and_validation():
    cfg = TrainConfig(dataset="d", tasks=["emotion", "va"], task_weights={"va": 2.0})
    d = cfg.to_dict()
    assert TrainConfig.from_dict(d) == cfg and d["task_weights"]["stress"] == 0.5
    with pytest.warns(UserWarning):
        TrainConfig.from_dict(d | {"bogus": 1})
    for bad in ({"optimizer": "sgd"}, {"scheduler": "step"}, {"va_loss": "l1"}, {"tasks": ["x"]}):
        with pytest.raises(ValueError):
            TrainConfig(dataset="d", **bad)
    assert math.isclose(TrainConfig().lr, 1e-3)
