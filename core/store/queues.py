"""Work queues for relabelling: unlabelled, likely wrong (emotion, V/A), label next, random, in order.

"likely wrong" ranks current labels by cleanlab label quality from OUT-OF-SAMPLE predictions:
held-out predictions when there are any (core.store.held_out: a model's predictions on samples
it did not train on), else k-fold cross-validated predictions over the samples' stored features;
"likely wrong V/A" and "label next (uncertain)" (active learning) come from
core.store.learning_queues, whose Queue records which source was used.
"""
from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store import learning_queues as lq
from core.store.datasets import dataset_schema
from core.store.held_out import likely_wrong, out_of_sample_predictions  # noqa: F401 - API
from core.store.models import Dataset, Sample

MODES = ("unlabelled", "likely wrong", "likely wrong V/A", "label next (uncertain)", "random", "in order")


def smart_queue(session: Session, dataset_id: int, mode: str, *, limit: int = 200,
                split: str | None = None) -> lq.Queue:
    """The learning_queues.Queue behind a "likely wrong" or "label next" mode (with its source):
    likely wrong from held-out predictions when there are any, else cross-validated over features."""
    if mode == "label next (uncertain)":
        return lq.uncertain_queue(session, dataset_id, limit=limit, split=split)
    return lq.likely_wrong_queue(session, dataset_id, field="va" if mode.endswith("V/A") else None,
                                 limit=limit, split=split)


def _unlabelled(session: Session, dataset_id: int) -> list:
    """"No label yet" in the dataset's schema: its emotion field (single, multi-label set or
    distribution) is empty, and so are its named targets when it declares any."""
    schema = dataset_schema(session.get(Dataset, dataset_id))
    field = {"single": Sample.cur_emotion, "multi": Sample.cur_emotions,
             "distribution": Sample.cur_distribution}[schema.emotion_mode]
    conds = [field.is_(None)]
    if schema.targets:
        conds.append(Sample.cur_targets.is_(None))
    return conds


def relabel_queue(session: Session, dataset_id: int, mode: str, *, limit: int = 200,
                  seed: int | None = None, split: str | None = None) -> list[int]:
    """Sample ids to review next, best first (see likely_wrong for "likely wrong")."""
    base = select(Sample.id).where(Sample.dataset_id == dataset_id)
    if split:
        base = base.where(Sample.split == split)
    if mode == "unlabelled":
        stmt = base.where(*_unlabelled(session, dataset_id)).order_by(Sample.id)
    elif mode in ("likely wrong", "likely wrong V/A", "label next (uncertain)"):
        return smart_queue(session, dataset_id, mode, limit=limit, split=split).ids
    elif mode == "random":
        lo, hi = session.execute(select(func.min(Sample.id), func.max(Sample.id))
                                 .where(Sample.dataset_id == dataset_id)).one()
        if lo is None:
            return []
        rnd = random.Random(seed)
        picks = {rnd.randint(lo, hi) for _ in range(limit * 3)}
        ids = list(session.scalars(base.where(Sample.id.in_(sorted(picks)))))
        rnd.shuffle(ids)
        return ids[:limit]
    elif mode == "in order":
        stmt = base.order_by(Sample.id)
    else:
        raise ValueError(f"unknown queue {mode!r}; one of {', '.join(MODES)}")
    return list(session.scalars(stmt.limit(limit)))
