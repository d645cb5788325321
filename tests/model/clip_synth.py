"""Synthetic clip-level signals for the clip-model tests (seeded, tiny, CPU)."""
from __future__ import annotations

import numpy as np

from core.label_schema import LabelSchema
from training.clip_data import ClipData, label_targets

N, D = 16, 16
ORDER = LabelSchema(classes=("early", "late"), stress=False)


def order_clips(m: int = 240, *, seed: int = 0, masked: float = 0.2) -> tuple[ClipData, np.ndarray]:
    """Class 'early' shows direction u in the first half of the clip and v in the second, 'late'
    the reverse: the mean over frames is the same for both, only the order tells them apart.
    About `masked` of the frames are masked (NaN rows, as stored). V/A follow the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, m)
    u, v = rng.normal(size=(2, D)) * 1.5
    emb = rng.normal(size=(m, N, D)).astype(np.float32)
    first, second = np.where(y[:, None] == 0, u, v), np.where(y[:, None] == 0, v, u)
    emb[:, :N // 2] += first[:, None]
    emb[:, N // 2:] += second[:, None]
    emb[rng.random((m, N)) < masked] = np.nan
    labels = [{"emotion": ORDER.classes[c], "valence": 0.8 * (1 - 2 * c) + 0.1 * rng.normal(),
               "arousal": None} for c in y]
    return ClipData.from_arrays(list(emb), label_targets(labels, ORDER, ["emotion", "va"])), y


def split(data: ClipData, n_train: int) -> tuple[ClipData, ClipData]:
    idx = np.arange(len(data))
    return data.subset(idx[:n_train]), data.subset(idx[n_train:])
