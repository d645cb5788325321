"""Splits: no subject in two splits, class ratios kept, deterministic, stored in the DB."""
from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from core.splits import PRESETS, assign_splits, split_dataset
from core.store.models import Sample, SplitAssignment
from tests.store.seed import seed_samples


def _items(n: int, subjects: int | None, seed: int = 1):
    import random

    rnd = random.Random(seed)
    classes = ["A", "B", "C", "D"]
    return [(i, f"s{rnd.randrange(subjects)}" if subjects else None, rnd.choice(classes))
            for i in range(n)]


@pytest.mark.parametrize("preset", list(PRESETS))
def test_without_subjects_each_class_is_within_one_sample_of_target(preset):
    items = _items(997, None)
    out = assign_splits(items, PRESETS[preset], seed=3)
    totals = Counter(e for _, _, e in items)
    got = Counter((out[i], e) for i, _, e in items)
    for split, frac in PRESETS[preset].items():
        for cls, n in totals.items():
            assert abs(got[(split, cls)] - frac * n) <= 1.0, (split, cls)


def test_subjects_never_leak_and_ratios_stay_close():
    items = _items(3000, 150)
    out = assign_splits(items, PRESETS["70/15/15"], seed=0)
    where = defaultdict(set)
    for i, subj, _ in items:
        where[subj].add(out[i])
    assert all(len(s) == 1 for s in where.values())
    sizes = Counter(out.values())
    assert abs(sizes["train"] / 3000 - 0.70) < 0.03 and abs(sizes["test"] / 3000 - 0.15) < 0.03
    totals = Counter(e for _, _, e in items)
    for cls, n in totals.items():
        share = sum(1 for i, _, e in items if e == cls and out[i] == "train") / n
        assert abs(share - 0.70) < 0.06


def test_deterministic_by_seed():
    items = _items(500, 40)
    assert assign_splits(items, PRESETS["70/30"], seed=7) == assign_splits(items, PRESETS["70/30"], seed=7)
    assert assign_splits(items, PRESETS["70/30"], seed=7) != assign_splits(items, PRESETS["70/30"], seed=8)


def test_split_dataset_stores_scheme_and_nested_preset(write, read):
    with write() as s, s.begin():
        ds = seed_samples(s, 200, subjects=40)
        split_dataset(s, ds.id, "70/30", seed=0)
        counts = split_dataset(s, ds.id, "70/20/10", seed=0)  # splits the labelled 30% further
    assert set(counts) == {"ssl", "classifier", "finetune"} and sum(map(sum, map(Counter.values, counts.values()))) < 100
    with read() as s:
        splits = Counter(s.scalars(select(Sample.split)))
        schemes = Counter(s.scalars(select(SplitAssignment.scheme)))
    assert splits["pretrain"] > 100 and "labelled" not in splits
    assert schemes["70/30@0"] == 200 and schemes["70/20/10@0"] == sum(splits[k] for k in counts)
    with pytest.raises(ValueError, match="unknown split preset"):
        with write() as s, s.begin():
            split_dataset(s, ds.id, "50/50")
