"""Work queues for relabelling: unlabelled, likely wrong, disagreement, random, in order."""
from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.models import Sample

MODES = ("unlabelled", "likely wrong", "random", "in order")


def relabel_queue(session: Session, dataset_id: int, mode: str, *, limit: int = 200,
                  seed: int | None = None, split: str | None = None) -> list[int]:
    """Sample ids to review next, best first.

    "likely wrong": the model disagrees with the current label, most confident disagreement first,
    then labelled samples whose prediction agrees with low confidence.
    """
    base = select(Sample.id).where(Sample.dataset_id == dataset_id)
    if split:
        base = base.where(Sample.split == split)
    if mode == "unlabelled":
        stmt = base.where(Sample.cur_emotion.is_(None)).order_by(Sample.id)
    elif mode == "likely wrong":
        disagree = base.where(Sample.pred_emotion.is_not(None), Sample.cur_emotion.is_not(None),
                              Sample.pred_emotion != Sample.cur_emotion)
        ids = list(session.scalars(disagree.order_by(Sample.pred_confidence.desc()).limit(limit)))
        if len(ids) < limit:
            unsure = base.where(Sample.pred_emotion == Sample.cur_emotion, Sample.pred_confidence < 0.5)
            ids += session.scalars(unsure.order_by(Sample.pred_confidence).limit(limit - len(ids)))
        return ids
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
