"""Reviewing a run's stored predictions against current labels: ordering, confusion, V/A pairs."""
from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from core.store.models import Prediction, Sample

ORDERS = ("worst", "best", "most confident wrong", "largest V/A error", "random")


def _latest(run_id: int, split: str | None) -> Select:
    """Newest prediction id per sample for one run (and split)."""
    conds = [Prediction.run_id == run_id]
    if split:
        conds.append(Prediction.split == split)
    return select(func.max(Prediction.id).label("pid")).where(*conds).group_by(Prediction.sample_id)


def review_rows(session: Session, run_id: int, *, split: str | None = None, order: str = "worst",
                limit: int = 48, offset: int = 0, true_emotion: str | None = None,
                pred_emotion: str | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Samples with their prediction of this run, ordered for review."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(ORDERS)}")
    latest = _latest(run_id, split).subquery()
    stmt = (select(Sample, Prediction).join(Prediction, Prediction.sample_id == Sample.id)
            .join(latest, latest.c.pid == Prediction.id))
    if true_emotion is not None:
        stmt = stmt.where(Sample.cur_emotion == true_emotion)
    if pred_emotion is not None:
        stmt = stmt.where(Prediction.emotion == pred_emotion)
    if order == "worst":
        stmt = stmt.where(Prediction.loss.is_not(None)).order_by(Prediction.loss.desc())
    elif order == "best":
        stmt = stmt.where(Prediction.loss.is_not(None)).order_by(Prediction.loss)
    elif order == "most confident wrong":
        stmt = stmt.where(and_(Sample.cur_emotion.is_not(None), Prediction.emotion != Sample.cur_emotion)
                          ).order_by(Prediction.confidence.desc())
    elif order == "largest V/A error":
        err = ((Prediction.valence - Sample.cur_valence) * (Prediction.valence - Sample.cur_valence)
               + (Prediction.arousal - Sample.cur_arousal) * (Prediction.arousal - Sample.cur_arousal))
        stmt = stmt.where(Sample.cur_valence.is_not(None)).order_by(err.desc())
    else:
        stmt = stmt.order_by((Sample.id * 2654435761 + seed) % 1000003)
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return [{"id": s.id, "crop_path": s.crop_path, "emotion": s.cur_emotion, "valence": s.cur_valence,
             "arousal": s.cur_arousal, "stress": s.cur_stress, "pred_emotion": p.emotion,
             "confidence": p.confidence, "pred_valence": p.valence, "pred_arousal": p.arousal,
             "pred_stress": p.stress, "loss": p.loss, "flags": p.flags or {}} for s, p in rows]


def review_arrays(session: Session, run_id: int, *, split: str | None = None) -> dict[str, np.ndarray]:
    """Current labels and this run's predictions as aligned arrays (for confusion, metrics, plots)."""
    latest = _latest(run_id, split).subquery()
    rows = session.execute(
        select(Sample.id, Sample.cur_emotion, Prediction.emotion, Sample.cur_valence, Sample.cur_arousal,
               Prediction.valence, Prediction.arousal)
        .join(Prediction, Prediction.sample_id == Sample.id).join(latest, latest.c.pid == Prediction.id)).all()
    cols = list(zip(*rows)) if rows else [[]] * 7
    f = lambda c: np.array([np.nan if v is None else v for v in c], dtype=float)  # noqa: E731
    return {"id": np.array(cols[0], dtype=int), "true": np.array(cols[1], dtype=object),
            "pred": np.array(cols[2], dtype=object), "valence": f(cols[3]), "arousal": f(cols[4]),
            "pred_valence": f(cols[5]), "pred_arousal": f(cols[6])}


def runs_with_predictions(session: Session) -> list[tuple[int, list[str]]]:
    """(run id, splits) of runs that have stored predictions."""
    rows = session.execute(select(Prediction.run_id, Prediction.split).where(Prediction.run_id.is_not(None))
                           .group_by(Prediction.run_id, Prediction.split)).all()
    out: dict[int, list[str]] = {}
    for run_id, split in rows:
        out.setdefault(run_id, []).append(split or "all")
    return sorted(out.items(), reverse=True)
