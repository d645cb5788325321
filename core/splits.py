"""Subject-grouped, emotion-stratified, seeded splits stored in the DB."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.store.models import Sample, SplitAssignment

PRESETS: dict[str, dict[str, float]] = {
    "70/15/15": {"train": 0.70, "val": 0.15, "test": 0.15},
    "70/30": {"pretrain": 0.70, "labelled": 0.30},
    "70/20/10": {"ssl": 0.70, "classifier": 0.20, "finetune": 0.10},
}
WITHIN_DEFAULT = {"70/20/10": "labelled"}  # this preset splits the labelled part of 70/30 if present
CHUNK = 1000


def assign_splits(items: list[tuple[int, str | None, str | None]], fractions: dict[str, float], *,
                  seed: int = 0) -> dict[int, str]:
    """Assign (id, subject, emotion) items to splits: every subject in one split, class ratios kept.

    Greedy: groups (a subject's samples, or a lone sample) go largest first, in seeded order, to the
    split where they add the least squared gap between counts and targets, per class and in total.
    """
    groups: dict[Any, list[tuple[int, str | None]]] = defaultdict(list)
    for sid, subject, emotion in items:
        groups[("s", subject) if subject else ("i", sid)].append((sid, emotion or "none"))
    totals = Counter(e for _, _, e in ((i, s, e or "none") for i, s, e in items))
    names = list(fractions)
    target = {s: {c: fractions[s] * n for c, n in totals.items()} for s in names}
    count = {s: Counter() for s in names}
    size = dict.fromkeys(names, 0)
    n_total = len(items)
    order = sorted(groups, key=str)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(groups[g]))
    out: dict[int, str] = {}
    for g in order:
        comp = Counter(e for _, e in groups[g])

        def cost(s: str, comp: Counter = comp, g: object = g) -> tuple[float, float]:
            added = sum((count[s][c] + k - target[s][c]) ** 2 - (count[s][c] - target[s][c]) ** 2
                        for c, k in comp.items())
            n, t = len(groups[g]), fractions[s] * n_total  # and keep split sizes near target
            return added + (size[s] + n - t) ** 2 - (size[s] - t) ** 2, -fractions[s]

        best = min(names, key=cost)
        count[best].update(comp)
        size[best] += len(groups[g])
        for sid, _ in groups[g]:
            out[sid] = best
    return out


def split_dataset(session: Session, dataset_id: int, preset: str, *, seed: int = 0,
                  within: str | None = None) -> dict[str, Counter]:
    """Split a dataset by a preset, store it (samples.split and split_assignments), return counts."""
    if preset not in PRESETS:
        raise ValueError(f"unknown split preset {preset!r}; one of {', '.join(PRESETS)}")
    within = within if within is not None else WITHIN_DEFAULT.get(preset)
    stmt = select(Sample.id, Sample.subject, Sample.cur_emotion).where(Sample.dataset_id == dataset_id)
    if within:
        scoped = stmt.where(Sample.split == within)
        if session.scalar(select(Sample.id).where(Sample.dataset_id == dataset_id,
                                                   Sample.split == within).limit(1)) is not None:
            stmt = scoped
    items = [tuple(r) for r in session.execute(stmt)]
    if not items:
        raise ValueError("the dataset has no samples to split")
    assigned = assign_splits(items, PRESETS[preset], seed=seed)
    scheme = f"{preset}@{seed}"
    session.query(SplitAssignment).filter(SplitAssignment.scheme == scheme,
                                          SplitAssignment.sample_id.in_(select(Sample.id).where(
                                              Sample.dataset_id == dataset_id))).delete(
        synchronize_session=False)
    rows = list(assigned.items())
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i:i + CHUNK]
        session.execute(update(Sample), [{"id": sid, "split": sp} for sid, sp in chunk])
        session.bulk_insert_mappings(SplitAssignment, [{"scheme": scheme, "sample_id": sid, "split": sp}
                                                       for sid, sp in chunk])
    by_split: dict[str, Counter] = defaultdict(Counter)
    emotion = {sid: e for sid, _, e in items}
    for sid, sp in assigned.items():
        by_split[sp][emotion[sid] or "none"] += 1
    return dict(by_split)
