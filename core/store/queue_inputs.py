"""What the label-issue and active-learning queues read from the store: feature vectors, source
video/subject groups, annotators' V/A spread, and the newest out-of-sample prediction per sample."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.models import Annotation, Feature, Prediction, Run, Sample
from core.taxonomy import concept

SKIP_KINDS = ("mesh468",)  # 1,404 landmark coordinates: pose more than expression; not the default
CHUNK = 500


def feature_kinds(session: Session, dataset_id: int) -> dict[str, int]:
    """Feature kind -> number of the dataset's samples that have it."""
    rows = session.execute(select(Feature.kind, func.count()).join(Sample, Sample.id == Feature.sample_id)
                           .where(Sample.dataset_id == dataset_id).group_by(Feature.kind))
    return {k: n for k, n in rows}


def features(session: Session, dataset_id: int, ids: Sequence[int], *, kind: str | None = None
             ) -> tuple[str | None, np.ndarray, np.ndarray]:
    """(kind, ids that have it, (n, D) float vectors) for these samples; kind None: the kind most
    of the dataset's samples have (mesh468 only when named). (None, [], []) when there is none."""
    kinds = feature_kinds(session, dataset_id)
    if kind is None:
        usable = {k: n for k, n in kinds.items() if k not in SKIP_KINDS}
        kind = max(sorted(usable), key=usable.get) if usable else None
    elif kind not in kinds:
        raise LookupError(f"no {kind!r} features in this dataset (known: {', '.join(sorted(kinds)) or 'none'})")
    if kind is None:
        return None, np.zeros(0, int), np.zeros((0, 0))
    found: dict[int, np.ndarray] = {}
    ids = [int(i) for i in ids]
    for i in range(0, len(ids), CHUNK):
        for sid, values in session.execute(select(Feature.sample_id, Feature.values).where(
                Feature.kind == kind, Feature.sample_id.in_(ids[i:i + CHUNK]))):
            found[sid] = np.frombuffer(values, dtype=np.float32)
    have = [sid for sid in ids if sid in found]
    if not have:
        return kind, np.zeros(0, int), np.zeros((0, 0))
    x = np.vstack([found[sid] for sid in have]).astype(np.float64)
    ok = np.isfinite(x).all(1)  # a frame with missing values cannot be compared: left out
    return kind, np.asarray(have)[ok], x[ok]


def groups(session: Session, ids: Sequence[int]) -> np.ndarray:
    """(N,) group of each sample: its source media (frames of one video), else its subject, else itself."""
    found: dict[int, str] = {}
    ids = [int(i) for i in ids]
    for i in range(0, len(ids), CHUNK):
        for sid, media, subject in session.execute(select(Sample.id, Sample.media_id, Sample.subject)
                                                   .where(Sample.id.in_(ids[i:i + CHUNK]))):
            found[sid] = f"media {media}" if media is not None else (f"subject {subject}" if subject else f"sample {sid}")
    return np.asarray([found.get(sid, f"sample {sid}") for sid in ids], dtype=object)


def va_spread(session: Session, ids: Sequence[int]) -> np.ndarray:
    """(N, 2) standard deviation of valence and arousal across annotators (each one's newest
    rating, undone rows left out); NaN where fewer than two people rated the sample."""
    undone = select(Annotation.undoes_id).where(Annotation.undoes_id.is_not(None))
    latest: dict[int, dict[Any, tuple[float, float]]] = defaultdict(dict)
    ids = [int(i) for i in ids]
    for i in range(0, len(ids), CHUNK):
        stmt = (select(Annotation.sample_id, Annotation.annotator_id, Annotation.valence, Annotation.arousal)
                .where(Annotation.sample_id.in_(ids[i:i + CHUNK]), Annotation.source == "human",
                       Annotation.annotator_id.is_not(None), Annotation.valence.is_not(None),
                       Annotation.arousal.is_not(None), Annotation.undoes_id.is_(None),
                       Annotation.id.not_in(undone))
                .order_by(Annotation.id))
        for sid, who, v, a in session.execute(stmt):
            latest[sid][who] = (v, a)
    out = np.full((len(ids), 2), np.nan)
    for row, sid in enumerate(ids):
        if len(latest.get(sid, {})) >= 2:
            out[row] = np.asarray(list(latest[sid].values())).std(0, ddof=1)
    return out


def _in_sample_split(config: dict | None) -> str | None:
    """The split a run trained on ("*" when it trained on every sample)."""
    split = (config or {}).get("train_split", "train")
    return "*" if split is None else split


def newest_predictions(session: Session, dataset_id: int, columns: Sequence[Any], *, where: Sequence[Any] = (),
                       split: str | None = None, out_of_sample: bool = True) -> dict[int, tuple]:
    """sample id -> (model_version, *columns) of its newest prediction among the samples matching
    `where`; out_of_sample: a run's predictions on the split it trained on are skipped (the run
    fitted those labels, wrong ones included)."""
    trained_on = {rid: _in_sample_split(cfg) for rid, cfg in session.execute(select(Run.id, Run.config))}
    stmt = (select(Prediction.sample_id, Prediction.run_id, Prediction.split, Prediction.model_version, *columns)
            .join(Sample, Sample.id == Prediction.sample_id)
            .where(Sample.dataset_id == dataset_id, *where).order_by(Prediction.id))
    if split:
        stmt = stmt.where(Sample.split == split)
    newest: dict[int, tuple] = {}
    for sid, run_id, pred_split, version, *values in session.execute(stmt):
        if out_of_sample and run_id is not None and trained_on.get(run_id) in ("*", pred_split):
            continue
        newest[sid] = (version, *values)
    return newest


def prob_row(probs: dict[str, Any] | None, index: dict[str, int], k: int) -> np.ndarray:
    """A model's {class: probability} over the dataset's k classes (matched by concept)."""
    row = np.zeros(k)
    for c, v in (probs or {}).items():
        if (j := index.get(concept(c))) is not None and v is not None:
            row[j] += float(v)
    return row
