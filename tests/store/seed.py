"""Seeds a label store with generated samples for store tests (no images needed)."""
from __future__ import annotations

import numpy as np
from sqlalchemy import insert

from core.ingest.commit import commit_samples
from core.ingest.records import PendingSample
from core.rules import DerivationRules
from core.store.datasets import get_or_create_dataset
from core.store.models import Dataset
from core.taxonomy import AFFECTNET8


def seed_samples(session, n: int = 40, *, dataset: str = "d", seed: int = 0, subjects: int = 8,
                 labelled: float = 1.0) -> Dataset:
    rng = np.random.default_rng(seed)
    ds = get_or_create_dataset(session, dataset)
    records = []
    for i in range(n):
        lab = rng.uniform() < labelled
        records.append(PendingSample(
            crop_sha256=f"{dataset}{seed}{i:08d}".ljust(64, "0"), crop_path=f"crops/x/{i}.png",
            source_path=f"{i}.png", subject=f"s{i % subjects}" if subjects else None,
            emotion=AFFECTNET8[i % 8] if lab else None,
            valence=float(rng.uniform(-1, 1)) if lab else None,
            arousal=float(rng.uniform(-1, 1)) if lab else None,
            quality=float(rng.uniform(0, 1))))
    commit_samples(session, ds, records, rules=DerivationRules())
    return ds


__all__ = ["seed_samples", "insert"]
