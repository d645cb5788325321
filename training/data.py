"""Training data from the label store: split rows, an image Dataset with augmentation, samplers."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from sqlalchemy import select
from sqlalchemy.orm import Session
from torch.utils.data import Dataset, Sampler

from core.model.config import ModelConfig
from core.model.preprocess import preprocess
from core.paths import PathRefused, confined
from core.store.models import Sample
from training.augment import Augment, apply


@dataclass
class SplitRows:
    """The samples of one split, loaded once; missing labels are -1 (emotion) or NaN."""
    ids: np.ndarray  # (N,) int64 sample ids
    paths: list[str]  # crop paths relative to the data dir
    emotion: np.ndarray  # (N,) int64 class code, -1 = missing
    va: np.ndarray  # (N, 2) float32 valence, arousal
    stress: np.ndarray  # (N,) float32

    def __len__(self) -> int:
        return len(self.paths)

    def labelled(self) -> dict[str, bool]:
        """Which tasks have at least one label here."""
        return {"emotion": bool((self.emotion >= 0).any()), "va": bool(np.isfinite(self.va).any()),
                "stress": bool(np.isfinite(self.stress).any())}


def _f(v: float | None) -> float:
    return math.nan if v is None else float(v)


def load_rows(session: Session, dataset_id: int, split: str | None, classes: list[str], *,
              max_samples: int | None = None, seed: int = 0) -> SplitRows:
    """Rows of a dataset's split (None = all), ordered by id; max_samples takes a seeded subset."""
    stmt = select(Sample.id, Sample.crop_path, Sample.cur_emotion, Sample.cur_valence,
                  Sample.cur_arousal, Sample.cur_stress).where(Sample.dataset_id == dataset_id)
    if split is not None:
        stmt = stmt.where(Sample.split == split)
    rows = session.execute(stmt.order_by(Sample.id)).all()
    if max_samples is not None and len(rows) > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), max_samples, replace=False))
        rows = [rows[i] for i in keep]
    code = {c: i for i, c in enumerate(classes)}
    return SplitRows(
        ids=np.array([r[0] for r in rows], np.int64), paths=[r[1] for r in rows],
        emotion=np.array([code.get(r[2], -1) if r[2] is not None else -1 for r in rows], np.int64),
        va=np.array([[_f(r[3]), _f(r[4])] for r in rows], np.float32).reshape(-1, 2),
        stress=np.array([_f(r[5]) for r in rows], np.float32))


class AffectDataset(Dataset):
    """Item i -> {"x": (C, S, S) float, "emotion": int64, "va": (2,), "stress": (1,), "index"}.

    Images are the stored canonical crops (data_dir/crop_path, core.faces.crop), preprocessed
    exactly as at inference (core.model.preprocess: the same resize, colour conversion and
    normalisation as predict and live); augmentation draws from a numpy RNG seeded by (seed,
    epoch, i), so results do not depend on worker count or order. Call set_epoch before each
    epoch.
    """

    def __init__(self, rows: SplitRows, data_dir: Path, config: ModelConfig, *,
                 augment: Augment | None = None, seed: int = 0):
        self.rows, self.data_dir, self.config = rows, Path(data_dir), config
        self.augment = augment if augment is not None and augment.active else None
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.rows)

    def read(self, i: int) -> np.ndarray:
        path = confined(self.rows.paths[i], (self.data_dir,))  # a stored path stays in the data dir
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"cannot read the crop of sample {int(self.rows.ids[i])}: {path}")
        return img

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        img = self.read(i)
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            img = apply(img, self.augment, rng, self.config.input_size,
                        gray=self.config.channels == 1, native_size=self.config.native_size)
        return {"x": preprocess(img, self.config)[0],
                "emotion": torch.tensor(self.rows.emotion[i]),
                "va": torch.from_numpy(self.rows.va[i].copy()),
                "stress": torch.from_numpy(self.rows.stress[i:i + 1].copy()),
                "index": torch.tensor(i)}


def missing_files(rows: SplitRows, data_dir: Path, limit: int = 5) -> list[str]:
    """Up to `limit` crop paths that do not exist."""
    out = []
    for p in rows.paths:
        try:
            present = confined(p, (Path(data_dir),)).is_file()
        except PathRefused:  # a stored path leading out of the data dir is never read
            present = False
        if not present:
            out.append(p)
            if len(out) >= limit:
                break
    return out


def inverse_frequency(emotion: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights n / (K_present * count), 1 for absent classes (scikit-learn 'balanced')."""
    counts = np.bincount(emotion[emotion >= 0], minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.ones(n_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w


def balanced_sample_weights(emotion: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-sample weights 1 / class count; unlabelled samples get the mean labelled weight."""
    counts = np.bincount(emotion[emotion >= 0], minlength=n_classes).astype(np.float64)
    w = np.zeros(len(emotion))
    lab = emotion >= 0
    w[lab] = 1.0 / counts[emotion[lab]]
    w[~lab] = w[lab].mean() if lab.any() else 1.0
    return w


class EpochSampler(Sampler[int]):
    """Seeded by (seed, epoch): a permutation, or weighted draws with replacement (class-balanced
    sampling, torch's WeightedRandomSampler); sharded across DDP ranks like DistributedSampler
    (padded to a multiple of world_size, rank::world_size)."""

    def __init__(self, n: int, *, seed: int = 0, shuffle: bool = True,
                 weights: np.ndarray | None = None, rank: int = 0, world_size: int = 1):
        self.n, self.seed, self.shuffle, self.rank, self.world = n, seed, shuffle, rank, world_size
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.double)
        self.epoch = 0
        self.per_rank = math.ceil(n / world_size) if n else 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.per_rank

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        if self.weights is not None:
            idx = torch.multinomial(self.weights, self.n, replacement=True, generator=g).tolist()
        elif self.shuffle:
            idx = torch.randperm(self.n, generator=g).tolist()
        else:
            idx = list(range(self.n))
        total = self.per_rank * self.world
        if idx:  # pad by repeating from the start
            idx = (idx * math.ceil(total / len(idx)))[:total]
        return iter(idx[self.rank:total:self.world])
