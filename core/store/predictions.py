"""Model predictions: stored apart from labels, cached on the sample for filtering and queues."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core.store.models import Prediction, Sample

CHUNK = 500


def record_predictions(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert prediction rows (sample_id, model_version, probs, valence, ... , run_id, loss, flags)
    and cache the newest emotion/confidence on each sample. Labels are never touched."""
    rows = [dict(r) for r in rows]
    for r in rows:
        probs = r.get("probs") or {}
        if probs and not r.get("emotion"):
            r["emotion"] = max(probs, key=probs.get)
        if probs and r.get("confidence") is None:
            r["confidence"] = float(probs[r["emotion"]])
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(Prediction), rows[i:i + CHUNK])
    latest = {r["sample_id"]: r for r in rows}
    updates = [{"id": sid, "has_prediction": True, "pred_emotion": r.get("emotion"),
                "pred_confidence": r.get("confidence")} for sid, r in latest.items()]
    for i in range(0, len(updates), CHUNK):
        session.execute(update(Sample), updates[i:i + CHUNK])
    return len(rows)


def latest_predictions(session: Session, sample_id: int, *, limit: int = 10) -> list[Prediction]:
    return list(session.scalars(select(Prediction).where(Prediction.sample_id == sample_id)
                                .order_by(Prediction.id.desc()).limit(limit)))
