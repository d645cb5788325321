"""Training data from the label store: split rows, an image Dataset with augmentation, samplers."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import cv2
import numpy as np
import torch
from sqlalchemy import null, select
from sqlalchemy.orm import Session
from torch.utils.data import Dataset, Sampler

from core.label_schema import LabelSchema
from core.model.config import ModelConfig
from core.model.preprocess import preprocess
from core.paths import PathRefused, confined
from core.store.models import Dataset as DatasetRow
from core.store.models import Sample
from core.store.models_tasks import SnapshotLabel
from core.store.snapshots import get_snapshot
from training.augment import Augment, apply


@dataclass
class SplitRows:
    """The samples of one split, loaded once; missing labels are -1 (emotion) or NaN.

    With a label schema: mode "multi" fills `emotions` (N, K) multi-hot, mode "distribution"
    fills `distribution` (N, K) probabilities and `emotion` with the dominant class; `dominance`
    (N,) and `targets` (N, T, columns in target_names order) when the schema declares them.
    A missing multi-label set or distribution is a NaN row; a stored {} distribution ("no
    emotion") has no class to match and counts as missing too.
    """
    ids: np.ndarray  # (N,) int64 sample ids
    paths: list[str]  # crop paths relative to the data dir
    emotion: np.ndarray  # (N,) int64 class code, -1 = missing
    va: np.ndarray  # (N, 2) float32 valence, arousal
    stress: np.ndarray  # (N,) float32
    mode: str = field(default="single", kw_only=True)  # the schema's emotion mode
    emotions: np.ndarray | None = field(default=None, kw_only=True)  # (N, K) float32 0/1
    distribution: np.ndarray | None = field(default=None, kw_only=True)  # (N, K) float32
    dominance: np.ndarray | None = field(default=None, kw_only=True)  # (N,) float32 in [-1, 1]
    targets: np.ndarray | None = field(default=None, kw_only=True)  # (N, T) float32
    target_names: list[str] = field(default_factory=list, kw_only=True)

    def __len__(self) -> int:
        return len(self.paths)

    def emotion_target(self) -> np.ndarray:
        """What the emotion loss trains on: class codes (single), multi-hot rows (multi) or
        probability rows (distribution)."""
        if self.mode == "multi" and self.emotions is not None:
            return self.emotions
        if self.mode == "distribution" and self.distribution is not None:
            return self.distribution
        return self.emotion

    def labelled(self) -> dict[str, bool]:
        """Which tasks have at least one label here (dominance and targets only when loaded)."""
        y = self.emotion_target()
        emotion = bool(np.isfinite(y).all(axis=1).any()) if y.ndim == 2 else bool((y >= 0).any())
        out = {"emotion": emotion, "va": bool(np.isfinite(self.va).any()),
               "stress": bool(np.isfinite(self.stress).any())}
        if self.dominance is not None:
            out["dominance"] = bool(np.isfinite(self.dominance).any())
        if self.targets is not None:
            out["targets"] = bool(np.isfinite(self.targets).any())
        return out

    def row_fields(self) -> list[str]:
        """The fields holding one entry per sample (what a subset or a concatenation cuts)."""
        return [f.name for f in fields(self)
                if f.name == "paths" or isinstance(getattr(self, f.name), np.ndarray)]

    def trained_heads(self, tasks: list[str]) -> dict[str, bool]:
        """ModelConfig.trained for a run of these tasks: a head is trained when its task is
        on and has labels; each named target by its own column."""
        labelled = self.labelled()
        out = {t: t in tasks and v for t, v in labelled.items() if t != "targets"}
        for j, name in enumerate(self.target_names):
            out[name] = "targets" in tasks and bool(np.isfinite(self.targets[:, j]).any())
        return out


def _f(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _multi_hot(names: list[str] | None, code: dict[str, int]) -> np.ndarray:
    row = np.full(len(code), np.nan, np.float32)
    if names is not None:
        row[:] = 0.0
        row[[code[n] for n in names if n in code]] = 1.0
    return row


def _probabilities(dist: dict[str, float] | None, code: dict[str, int]) -> np.ndarray:
    row = np.full(len(code), np.nan, np.float32)
    if dist and sum(float(v) for k, v in dist.items() if k in code) > 0:
        row[:] = 0.0
        for k, v in dist.items():
            if k in code:
                row[code[k]] = float(v)
        row /= row.sum()
    return row


SNAPSHOT_FIELDS = ("emotion", "valence", "arousal", "stress")


def _snapshot_rows(session: Session, dataset_id: int, split: str | None, snapshot: str,
                   schema: LabelSchema) -> list[tuple]:
    """load_rows' tuples with the labels frozen in a snapshot (samples added since are left out)."""
    snap = get_snapshot(session, session.get(DatasetRow, dataset_id).name, snapshot)
    stmt = (select(Sample.id, Sample.crop_path, SnapshotLabel.label)
            .join(SnapshotLabel, SnapshotLabel.sample_id == Sample.id)
            .where(SnapshotLabel.snapshot_id == snap.id))
    if split is not None:
        stmt = stmt.where(Sample.split == split)
    extra = {"multi": "emotions", "distribution": "distribution"}.get(schema.emotion_mode)
    return [(sid, crop, *(lab.get(f) for f in SNAPSHOT_FIELDS), lab.get(extra) if extra else None,
             lab.get("dominance") if schema.dominance else None, lab.get("targets") if schema.targets else None)
            for sid, crop, lab in session.execute(stmt.order_by(Sample.id)).tuples()]


def load_rows(session: Session, dataset_id: int, split: str | None, classes: list[str], *,
              max_samples: int | None = None, seed: int = 0, schema: LabelSchema | None = None,
              snapshot: str | None = None) -> SplitRows:
    """Rows of a dataset's split (None = all), ordered by id; max_samples takes a seeded subset.
    schema (None = single-label over classes) says which label columns to read; snapshot (a name
    in core.store.snapshots) reads the labels frozen there instead of the current ones."""
    schema = schema or LabelSchema(classes=tuple(classes))
    if snapshot:
        return _split_rows(_snapshot_rows(session, dataset_id, split, snapshot, schema), classes, schema,
                           max_samples=max_samples, seed=seed)
    cols = [Sample.id, Sample.crop_path, Sample.cur_emotion, Sample.cur_valence,
            Sample.cur_arousal, Sample.cur_stress]
    extra = {"multi": Sample.cur_emotions, "distribution": Sample.cur_distribution}.get(
        schema.emotion_mode)
    cols += [extra if extra is not None else null(),
             Sample.cur_dominance if schema.dominance else null(),
             Sample.cur_targets if schema.targets else null()]
    stmt = select(*cols).where(Sample.dataset_id == dataset_id)
    if split is not None:
        stmt = stmt.where(Sample.split == split)
    rows = session.execute(stmt.order_by(Sample.id)).all()
    return _split_rows(rows, classes, schema, max_samples=max_samples, seed=seed)


def _split_rows(rows: list, classes: list[str], schema: LabelSchema, *, max_samples: int | None,
                seed: int) -> SplitRows:
    """SplitRows from (id, crop_path, emotion, valence, arousal, stress, emotions|distribution,
    dominance, targets) tuples ordered by id."""
    if max_samples is not None and len(rows) > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), max_samples, replace=False))
        rows = [rows[i] for i in keep]
    code = {c: i for i, c in enumerate(classes)}
    emotion = np.array([code.get(r[2], -1) if r[2] is not None else -1 for r in rows], np.int64)
    k = len(classes)
    out = SplitRows(
        ids=np.array([r[0] for r in rows], np.int64), paths=[r[1] for r in rows], emotion=emotion,
        va=np.array([[_f(r[3]), _f(r[4])] for r in rows], np.float32).reshape(-1, 2),
        stress=np.array([_f(r[5]) for r in rows], np.float32), mode=schema.emotion_mode)
    if schema.emotion_mode == "multi":
        out.emotions = np.array([_multi_hot(r[6], code) for r in rows], np.float32).reshape(-1, k)
    elif schema.emotion_mode == "distribution":
        out.distribution = np.array([_probabilities(r[6], code) for r in rows], np.float32).reshape(-1, k)
        known = np.isfinite(out.distribution).all(axis=1)
        out.emotion = np.where(known, np.nan_to_num(out.distribution).argmax(axis=1), -1).astype(np.int64)
    if schema.dominance:
        out.dominance = np.array([_f(r[7]) for r in rows], np.float32)
    if schema.targets:
        out.target_names = [t.name for t in schema.targets]
        out.targets = np.array([[_f((r[8] or {}).get(n)) for n in out.target_names] for r in rows],
                               np.float32).reshape(-1, len(out.target_names))
    return out


class AffectDataset(Dataset):
    """Item i -> {"x": (C, S, S) float, "emotion": int64 code or (K,) float (multi-hot or
    distribution, per rows.mode), "va": (2,), "stress": (1,), "index"}, plus "dominance": (1,)
    and "targets": (T,) when the rows carry them.

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
        item = {"x": preprocess(img, self.config)[0],
                "emotion": torch.as_tensor(self.rows.emotion_target()[i].copy()),
                "va": torch.from_numpy(self.rows.va[i].copy()),
                "stress": torch.from_numpy(self.rows.stress[i:i + 1].copy()),
                "index": torch.tensor(i)}
        return item | label_extras(self.rows, i)


LABEL_KEYS = ("emotion", "va", "stress", "dominance", "targets")  # batch keys the loss reads


def label_extras(rows: SplitRows, i: int) -> dict[str, torch.Tensor]:
    """The dominance and named-target labels of row i, for the rows that carry them."""
    out = {}
    if rows.dominance is not None:
        out["dominance"] = torch.from_numpy(rows.dominance[i:i + 1].copy())
    if rows.targets is not None:
        out["targets"] = torch.from_numpy(rows.targets[i].copy())
    return out


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
