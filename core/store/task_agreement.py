"""Agreement of a task's annotators, per label field (arrays from the store, numbers from core.agreement).

Ratings are each annotator's newest task label value per field and sample (undone rows left
out). Levels: `emotion` nominal; `emotions` one nominal 0/1 alpha per category ("emotions:<class>");
`valence`, `arousal`, `dominance`, `stress` and each named target ("target:<name>") interval,
with ICC on the samples every task annotator rated. Per sample, the disagreement of a field is
the share of ratings off the majority (nominal) or the ratings' standard deviation over half the
field's range (interval); a sample's score is the mean over its fields, 0 = everyone agreed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import agreement as ag
from core.store.consensus import field_value, label_fields
from core.store.datasets import dataset_schema
from core.store.models import Annotation, Annotator, Dataset, Sample
from core.store.models_tasks import LabelTask, TaskLabel

IN_CHUNK = 5000
RANGES = {"valence": (-1.0, 1.0), "arousal": (-1.0, 1.0), "dominance": (-1.0, 1.0), "stress": (0.0, 1.0)}


@dataclass
class TaskRatings:
    """annotators x samples values per field (None = not rated)."""
    annotators: list[str]
    sample_ids: list[int]
    values: dict[str, list[list[Any]]] = field(default_factory=dict)


def task_ratings(session: Session, task: LabelTask) -> TaskRatings:
    """Each annotator's newest (not undone) task value per field and sample."""
    rows = session.execute(select(TaskLabel.sample_id, TaskLabel.annotator_id, Annotation)
                           .join(Annotation, Annotation.id == TaskLabel.annotation_id)
                           .where(TaskLabel.task_id == task.id).order_by(Annotation.id)).tuples().all()
    sample_ids = sorted({r[0] for r in rows})
    undone: set[int] = set()
    for i in range(0, len(sample_ids), IN_CHUNK):
        undone.update(session.scalars(select(Annotation.undoes_id).where(
            Annotation.sample_id.in_(sample_ids[i:i + IN_CHUNK]), Annotation.undoes_id.is_not(None))))
    ids = sorted({r[1] for r in rows})
    names = dict(session.execute(select(Annotator.id, Annotator.name).where(Annotator.id.in_(ids))).all())
    col, row = {s: j for j, s in enumerate(sample_ids)}, {a: i for i, a in enumerate(ids)}
    fields = label_fields([a for *_, a in rows])
    out = TaskRatings([names[a] for a in ids], sample_ids)
    for name in fields:
        grid: list[list[Any]] = [[None] * len(sample_ids) for _ in ids]
        for sid, who, a in rows:  # oldest first: the newest value wins
            value = field_value(a, name)
            if a.id not in undone and value is not None:
                grid[row[who]][col[sid]] = value
        if any(v is not None for r in grid for v in r):
            out.values[name] = grid
    return out


def _numeric(grid: list[list[Any]]) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in r] for r in grid], dtype=float)


def _consensus(data: np.ndarray, level: str) -> np.ndarray:
    """Per unit: the majority code (NaN on a tie) or the mean (the consensus rule, as arrays)."""
    out = np.full(data.shape[1], np.nan)
    for u in range(data.shape[1]):
        vals = data[:, u][~np.isnan(data[:, u])]
        if vals.size == 0:
            continue
        if level == "interval":
            out[u] = vals.mean()
            continue
        codes, counts = np.unique(vals, return_counts=True)
        top = np.flatnonzero(counts == counts.max())
        out[u] = codes[top[0]] if top.size == 1 else np.nan
    return out


def _field_report(name: str, data: np.ndarray, level: str, annotators: list[str]) -> dict[str, Any]:
    scores, shared = ag.pairwise(data, level=level)
    report = {"field": name, "level": level, "alpha": ag.alpha(data, level=level),
              "units": int(((~np.isnan(data)).sum(0) >= 2).sum()), "ratings": int((~np.isnan(data)).sum()),
              "pairwise": scores.tolist(), "shared": shared.tolist(),
              "vs_consensus": dict(zip(annotators, ag.versus_reference(data, _consensus(data, level), level=level)
                                       .tolist())), "icc": None}
    if level == "interval":
        complete = data[:, ~np.isnan(data).any(0)]
        if complete.shape[0] >= 2 and complete.shape[1] >= 2:
            report["icc"] = ag.icc(complete.T) | {"units": int(complete.shape[1])}
    return report


def _levels(session: Session, task: LabelTask, ratings: TaskRatings) -> list[tuple[str, np.ndarray, str, float]]:
    """(field name, numeric ratings, level, half range) per field with ratings."""
    schema = dataset_schema(session.get(Dataset, task.dataset_id))
    out = []
    for name, grid in ratings.values.items():
        if name == "emotion":
            out.append((name, ag.encode(grid, list(schema.classes)), "nominal", 1.0))
        elif name == "emotions":
            for cls in schema.classes:
                out.append((f"emotions:{cls}", ag.category_matrix(grid, cls), "nominal", 1.0))
        elif name in RANGES:
            lo, hi = RANGES[name]
            out.append((name, _numeric(grid), "interval", (hi - lo) / 2))
        elif name.startswith("target:"):
            spec = next((t for t in schema.targets if t.name == name.split(":", 1)[1]), None)
            half = (spec.high - spec.low) / 2 if spec is not None and spec.high > spec.low else 1.0
            out.append((name, _numeric(grid), "interval", half))
    return out


def task_agreement(session: Session, task: LabelTask, *, top: int = 50) -> dict[str, Any]:
    """Per field: alpha, ICC (interval fields), pairwise alpha, each annotator vs the consensus;
    the `top` samples with the most disagreement (score, per-field scores, current emotion)."""
    ratings = task_ratings(session, task)
    fields, per_unit = [], []
    for name, data, level, half in _levels(session, task, ratings):
        fields.append(_field_report(name, data, level, ratings.annotators))
        per_unit.append((name, ag.disagreement(data, level=level) / (1.0 if level == "nominal" else half)))
    ranked = []
    for j, sid in enumerate(ratings.sample_ids):
        scores = {name: float(d[j]) for name, d in per_unit if not np.isnan(d[j])}
        if scores:
            ranked.append({"sample_id": sid, "score": float(np.mean(list(scores.values()))), "fields": scores})
    ranked.sort(key=lambda r: (-r["score"], r["sample_id"]))
    current = {sid: (emotion, (sources or {}).get("emotion", "")) for sid, emotion, sources in session.execute(
        select(Sample.id, Sample.cur_emotion, Sample.cur_sources).where(
            Sample.id.in_([r["sample_id"] for r in ranked[:top]]))).tuples()}
    for r in ranked[:top]:  # the current emotion, or "tie" when the consensus vote was tied
        emotion, source = current.get(r["sample_id"], (None, ""))
        r["emotion"] = "tie" if emotion is None and source.endswith(":tie") else emotion
    return _finite({"task": task.name, "k": task.k, "blind": task.blind, "annotators": ratings.annotators,
                    "samples": len(ratings.sample_ids), "fields": fields, "disagreements": ranked[:top]})


def _finite(obj: Any) -> Any:
    """NaN (undefined: nothing to compare) as None, so the report is valid JSON."""
    if isinstance(obj, float):
        return None if np.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
