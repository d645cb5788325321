"""Feature-vector training data: per-sample vectors of chosen kinds from the label store's
`features` table (OpenFace AUs, gaze, pose, landmarks), with labels from the cur_* columns."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from sqlalchemy import select
from sqlalchemy.orm import Session
from torch.utils.data import DataLoader, Dataset

from core.model.features_mlp import MIN_STD
from core.store.models import Feature, FeatureKind, Sample
from core.train_config import TrainConfig
from training.data import EpochSampler, SplitRows, balanced_sample_weights, load_rows

# the order kinds are concatenated in; kinds not listed here follow, alphabetically
KIND_ORDER = ("openface_au", "openface_gaze", "openface_pose", "openface_landmarks2d")
CHUNK = 900  # sample ids per IN (...) query, under SQLite's bound-parameter limit


@dataclass
class FeatureRows(SplitRows):
    """SplitRows plus the raw (unstandardised) feature matrix, one row per sample."""
    x: np.ndarray  # (N, D) float32


def ordered_kinds(kinds: list[str] | tuple[str, ...]) -> list[str]:
    """The kinds, deduplicated, in the fixed concatenation order."""
    kinds = list(dict.fromkeys(kinds))
    if not kinds:
        raise ValueError("choose at least one feature kind")
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(kinds, key=lambda k: (rank.get(k, len(rank)), k))


def feature_names(session: Session, kinds: list[str]) -> list[str]:
    """The column names of the concatenated vector (kinds in the fixed order)."""
    known = {k.kind: list(k.names) for k in session.scalars(select(FeatureKind))}
    missing = [k for k in kinds if k not in known]
    if missing:
        raise ValueError(f"no features of kind {', '.join(missing)} in the store; "
                         f"known kinds: {', '.join(sorted(known)) or 'none'}")
    return [name for k in ordered_kinds(kinds) for name in known[k]]


def load_features(session: Session, ids: np.ndarray, kinds: list[str]) -> np.ndarray:
    """(N, D) float32: for each sample id, its vectors of every kind, concatenated in the fixed
    order. A sample without one of the kinds (or with a vector of the wrong length) is an error
    that names it."""
    kinds = ordered_kinds(kinds)
    dims = {k: len(n) for k, n in session.execute(
        select(FeatureKind.kind, FeatureKind.names).where(FeatureKind.kind.in_(kinds)))}
    feature_names(session, kinds)  # raises for unknown kinds
    offset = dict(zip(kinds, np.cumsum([0] + [dims[k] for k in kinds])[:-1].tolist()))
    row = {int(i): r for r, i in enumerate(ids)}
    out = np.zeros((len(ids), sum(dims.values())), np.float32)
    seen = np.zeros((len(ids), len(kinds)), bool)
    col = {k: j for j, k in enumerate(kinds)}
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), CHUNK):
        stmt = select(Feature.sample_id, Feature.kind, Feature.values).where(
            Feature.sample_id.in_(id_list[start:start + CHUNK]), Feature.kind.in_(kinds))
        for sid, kind, raw in session.execute(stmt):
            v = np.frombuffer(raw, np.float32)
            if v.size != dims[kind]:
                raise ValueError(f"sample {sid} has {v.size} {kind} values, the kind has {dims[kind]}")
            r = row[sid]
            out[r, offset[kind]:offset[kind] + dims[kind]] = v
            seen[r, col[kind]] = True
    if not seen.all():
        r, j = map(int, np.argwhere(~seen)[0])
        path = session.scalar(select(Sample.source_path).where(Sample.id == int(ids[r])))
        raise ValueError(f"sample {int(ids[r])} ({path}) has no {kinds[j]} features "
                         f"({int((~seen).any(1).sum())} of {len(ids)} samples miss a kind); "
                         "choose kinds every sample has")
    return out


def load_split_rows(session: Session, dataset_id: int, splits: list[str], classes: list[str], *,
                    kinds: list[str] | None = None) -> SplitRows:
    """The rows of one or more splits (labels from cur_*), with their feature matrix when kinds
    are given (FeatureRows), ordered split by split, then by id."""
    if not splits:
        raise ValueError("name at least one split")
    rows = concat([load_rows(session, dataset_id, s, classes) for s in splits])
    if kinds is None:
        return rows
    return FeatureRows(**{f.name: getattr(rows, f.name) for f in fields(rows)},
                       x=load_features(session, rows.ids, kinds))


def subjects_and_frames(session: Session, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(subject or "", frame index or -1) per sample id, in the order of ids."""
    found: dict[int, tuple[str, int]] = {}
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), CHUNK):
        stmt = select(Sample.id, Sample.subject, Sample.frame_index).where(
            Sample.id.in_(id_list[start:start + CHUNK]))
        for sid, subject, frame in session.execute(stmt):
            found[sid] = (subject or "", -1 if frame is None else int(frame))
    subjects = np.array([found[i][0] for i in id_list], dtype=object)
    frames = np.array([found[i][1] for i in id_list], np.int64)
    return subjects, frames


def concat(parts: list[SplitRows]) -> SplitRows:
    """One rows object from several of the same type."""
    first = parts[0]
    return replace(first, **{f: _join([getattr(p, f) for p in parts]) for f in first.row_fields()})


def take(rows: SplitRows, idx: np.ndarray) -> SplitRows:
    """The rows at positions idx (same type, every field subset)."""
    idx = np.asarray(idx, np.int64)
    return replace(rows, **{f: _pick(getattr(rows, f), idx) for f in rows.row_fields()})


def _join(values: list) -> list | np.ndarray:
    return [v for part in values for v in part] if isinstance(values[0], list) else np.concatenate(values)


def _pick(value: list | np.ndarray, idx: np.ndarray) -> list | np.ndarray:
    return [value[i] for i in idx] if isinstance(value, list) else value[idx]


def standardisation(x: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-dimension mean and std (constant dimensions get std 1) of a training matrix."""
    if len(x) == 0:
        raise ValueError("no training vectors to compute standardisation stats on")
    if not np.isfinite(x).all():
        raise ValueError("the training features hold NaN or infinite values")
    mean, std = x.astype(np.float64).mean(0), x.astype(np.float64).std(0)
    std[std < MIN_STD] = 1.0
    return mean.tolist(), std.tolist()


class FeatureDataset(Dataset):
    """Item i -> {"x": (D,) raw vector, "emotion": int64, "va": (2,), "stress": (1,), "index"};
    the features_mlp backbone standardises with the stats in its config."""

    def __init__(self, rows: FeatureRows):
        self.rows = rows
        self.x = torch.from_numpy(np.ascontiguousarray(rows.x, np.float32))

    def set_epoch(self, epoch: int) -> None:
        """No augmentation: every epoch reads the same vectors."""

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        r = self.rows
        return {"x": self.x[i], "emotion": torch.tensor(r.emotion[i]),
                "va": torch.from_numpy(r.va[i].copy()),
                "stress": torch.from_numpy(r.stress[i:i + 1].copy()), "index": torch.tensor(i)}


def feature_loaders(cfg: TrainConfig, train: FeatureRows, val: FeatureRows | None, n_classes: int
                    ) -> tuple[DataLoader, DataLoader | None, torch.Generator]:
    """Train loader (seeded per epoch, optionally class-balanced) and val loader, one process;
    like training.setup.make_loaders for images."""
    weights = balanced_sample_weights(train.emotion, n_classes) if cfg.class_balanced else None
    sampler = EpochSampler(len(train), seed=cfg.seed, weights=weights)
    gen = torch.Generator()
    common = {"num_workers": cfg.num_workers, "generator": gen}
    train_dl = DataLoader(FeatureDataset(train), batch_size=cfg.batch_size, sampler=sampler,
                          drop_last=len(sampler) > cfg.batch_size, **common)
    val_dl = None
    if val is not None and len(val):
        val_dl = DataLoader(FeatureDataset(val), batch_size=cfg.batch_size * 2, shuffle=False, **common)
    return train_dl, val_dl, gen
