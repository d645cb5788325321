"""One sample with everything the detail view needs: media, features, label history, predictions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.labels import HistoryEntry, label_history
from core.store.models import Feature, FeatureKind, Media, Prediction, Sample
from core.store.predictions import latest_predictions


@dataclass
class SampleDetail:
    sample: Sample
    media: Media | None
    history: list[HistoryEntry]
    predictions: list[Prediction]
    features: dict[str, dict[str, float]] = field(default_factory=dict)
    landmarks: np.ndarray | None = None


def sample_detail(session: Session, sample_id: int) -> SampleDetail:
    smp = session.get(Sample, sample_id)
    if smp is None:
        raise LookupError(f"sample {sample_id} does not exist")
    media = session.get(Media, smp.media_id) if smp.media_id else None
    feats: dict[str, dict[str, float]] = {}
    landmarks = None
    for feat in session.scalars(select(Feature).where(Feature.sample_id == sample_id)):
        values = np.frombuffer(feat.values, dtype=np.float32)
        if feat.kind == "mesh468":
            landmarks = values.reshape(-1, 3)
            continue
        names = session.get(FeatureKind, feat.kind).names
        feats[feat.kind] = dict(zip(names, values.astype(float).tolist()))
    return SampleDetail(smp, media, label_history(session, sample_id),
                        latest_predictions(session, sample_id), feats, landmarks)


def sample_points(session: Session, where: list[Any], *, limit: int = 5000) -> list[tuple]:
    """(id, valence, arousal, emotion) of up to `limit` labelled samples, spread over the ids."""
    conds = [*where, Sample.cur_valence.is_not(None), Sample.cur_arousal.is_not(None)]
    n = session.scalar(select(func.count()).select_from(select(Sample.id).where(*conds)
                                                        .limit(limit * 20).subquery())) or 0
    step = max(1, n // limit)
    stmt = select(Sample.id, Sample.cur_valence, Sample.cur_arousal, Sample.cur_emotion).where(*conds)
    if step > 1:
        stmt = stmt.where(Sample.id % step == 0)
    return [tuple(r) for r in session.execute(stmt.order_by(Sample.id).limit(limit))]
