"""Reviewing a clip run's stored predictions: clips ordered by one modality's per-clip loss (visual
only, audio only, fused; training.clip_eval stores them in predictions.outputs["modalities"]) and
the run's per-modality metrics."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clips.run_config import is_clip_run
from core.clips.sample_loss import order_by_loss
from core.model.clip_config import MODALITIES
from core.store.models import Prediction, Run, Sample
from core.store.models_clips import Clip
from core.store.review import ReviewSource, _latest

MODALITY_NAMES = {"fused": "fused", "visual": "visual only", "audio": "audio only"}
IN_CHUNK = 5000


def is_clip_source(session: Session, source: ReviewSource) -> bool:
    """Whether the source is a clip run whose predictions are on clips."""
    if source.run_id is None:
        return False
    run = session.get(Run, source.run_id)
    return run is not None and is_clip_run(run.config)


def modality_metrics(session: Session, run_id: int) -> dict[str, dict[str, float]]:
    """{modality: {metric: value}} on the run's held-out clips, fused first: the newest evaluation
    (Run.metrics["eval"]["held-out"]), else what training reported (Run.metrics["modalities"])."""
    run = session.get(Run, run_id)
    metrics = (run.metrics if run is not None else None) or {}
    found = ((metrics.get("eval") or {}).get("held-out") or {}).get("modalities") or metrics.get("modalities") or {}
    return {m: dict(found[m]) for m in _fused_first(found)}


def _fused_first(names: Any) -> list[str]:
    return [m for m in MODALITIES if m in names] + sorted(set(names) - set(MODALITIES))


def modality_table(metrics: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One row per modality ("visual only", ...), one column per metric name the run reported
    (first seen first; None where a modality lacks it)."""
    names: list[str] = []
    for values in metrics.values():
        names += [k for k in values if k not in names]
    return [{"modality": MODALITY_NAMES.get(m, m), **{k: values.get(k) for k in names}}
            for m, values in metrics.items()]


def _newest(session: Session, source: ReviewSource, split: str | None) -> list[tuple[int, Prediction]]:
    """(sample id, newest prediction of this source) of every clip sample, by sample id."""
    latest = _latest(source, split).subquery()
    rows = session.execute(select(Sample.id, Prediction).join(Prediction, Prediction.sample_id == Sample.id)
                           .join(latest, latest.c.pid == Prediction.id).join(Clip, Clip.sample_id == Sample.id)
                           .order_by(Sample.id)).all()
    return [(sid, p) for sid, p in rows]


def _entry(p: Prediction, modality: str) -> dict[str, Any] | None:
    """One modality's stored prediction and loss; a row stored without per-modality outputs
    stands for its model as it is ("fused")."""
    found = ((p.outputs or {}).get("modalities") or {}).get(modality)
    if found is not None:
        return found
    if modality == "fused" and not (p.outputs or {}).get("modalities"):
        return {"probs": p.probs, "emotion": p.emotion, "confidence": p.confidence, "valence": p.valence,
                "arousal": p.arousal, "stress": p.stress, "targets": (p.outputs or {}).get("targets") or {},
                "loss": p.loss}
    return None


def stored_modalities(session: Session, source: ReviewSource) -> list[str]:
    """The modalities this source's clip predictions carry, fused first."""
    newest = _newest(session, source, None)
    return _fused_first({m for _, p in newest for m in ((p.outputs or {}).get("modalities") or {"fused": None})})


def clip_losses(session: Session, source: ReviewSource, *, split: str | None = None,
                modality: str = "fused") -> tuple[list[int], list[float | None]]:
    """(clip sample ids, that modality's per-clip loss or None) of the source's newest predictions."""
    return _losses(_newest(session, source, split), modality)


def _losses(newest: list[tuple[int, Prediction]], modality: str) -> tuple[list[int], list[float | None]]:
    entries = [(sid, _entry(p, modality)) for sid, p in newest]
    return [sid for sid, _ in entries], [None if e is None else e.get("loss") for _, e in entries]


def clip_review_rows(session: Session, source: ReviewSource, *, split: str | None = None,
                     modality: str = "fused", order: str = "worst", limit: int = 32, offset: int = 0
                     ) -> tuple[list[dict[str, Any]], int]:
    """(a page of clips ordered by the modality's loss, how many clips have that loss). Each row:
    the sample's label fields and representative crop, the clip's time range, face slots and
    audio, and the modality's prediction (pred) and loss."""
    found = _newest(session, source, split)
    ordered = order_by_loss(*_losses(found, modality), order)
    page = ordered[offset:offset + limit]
    newest = dict(found)
    facts = {s.id: (s, c) for s, c in session.execute(
        select(Sample, Clip).join(Clip, Clip.sample_id == Sample.id).where(Sample.id.in_(page)))}
    rows = []
    for sid in page:
        s, c = facts[sid]
        pred = _entry(newest[sid], modality) or {}
        trained = (newest[sid].flags or {}).get("emotion") != "untrained"  # FIV2: traits only
        rows.append({"id": sid, "crop_path": s.crop_path, "emotion": s.cur_emotion, "emotions": s.cur_emotions,
                     "distribution": s.cur_distribution, "targets": s.cur_targets, "valence": s.cur_valence,
                     "arousal": s.cur_arousal, "source": "", "sources": {}, "pred_emotion": pred.get("emotion") if trained else None,
                     "pred": pred, "loss": pred.get("loss"), "start": c.start, "end": c.end,
                     "faces": sum(bool(m) for m in c.mask), "slots": len(c.mask), "audio": bool(c.has_audio),
                     "split": newest[sid].split})
    return rows, len(ordered)
