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





def seed_rich(session, schema, n: int = 12, *, dataset: str = "rich", seed: int = 0) -> Dataset:
    """Samples labelled in the schema's emotion mode, with dominance and targets when declared.

    Multi-label: sample i has classes[i % k] and, for odd i, classes[(i + 1) % k] too (every
    third sample none of them); distribution: 0.6/0.4 over those two classes (every third {}).
    """
    rng = np.random.default_rng(seed)
    ds = get_or_create_dataset(session, dataset, schema=schema)
    k = len(schema.classes)
    records = []
    for i in range(n):
        first, second = schema.classes[i % k], schema.classes[(i + 1) % k]
        p = PendingSample(crop_sha256=f"{dataset}{seed}{i:08d}".ljust(64, "0"), crop_path=f"crops/r/{i}.png",
                          source_path=f"{i}.png", subject=f"s{i % 4}", valence=float(rng.uniform(-1, 1)),
                          arousal=float(rng.uniform(-1, 1)), quality=float(rng.uniform(0, 1)))
        if schema.emotion_mode == "multi":
            p.emotions = [] if i % 3 == 2 else schema.check_emotions([first, second] if i % 2 else [first])
        elif schema.emotion_mode == "distribution":
            p.distribution = {} if i % 3 == 2 else {first: 0.6, second: 0.4}
        if schema.dominance:
            p.dominance = round(float(rng.uniform(-1, 1)), 6)
        if schema.targets:
            p.targets = {t.name: round(float(rng.uniform(t.low, t.high)), 6) for t in schema.targets}
        records.append(p)
    commit_samples(session, ds, records, rules=None)
    return ds
__all__ = ["seed_samples", "seed_rich", "insert"]
