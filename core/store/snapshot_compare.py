"""A run's predictions against the snapshot it trained on and a later one: "was the model right and the label wrong?"."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.datasets import dataset_schema
from core.store.models import Dataset, Prediction, Run
from core.store.models_tasks import Snapshot
from core.store.snapshots import get_snapshot, snapshot_labels

VERDICTS = ("model was right", "model followed the old label", "neither")


@dataclass
class Changed:
    """One sample whose label changed between the two snapshots, and what the run predicted."""
    sample_id: int
    before: Any
    after: Any
    predicted: Any
    verdict: str  # one of VERDICTS


def _emotion_value(label: dict[str, Any], mode: str) -> Any:
    if mode == "multi":
        value = label.get("emotions")
        return None if value is None else tuple(value)
    if mode == "distribution":
        dist = label.get("distribution") or {}
        return max(dist, key=dist.get) if dist else None
    return label.get("emotion")


def _predicted(pred: Prediction, mode: str, classes: tuple[str, ...]) -> Any:
    outs = pred.outputs or {}
    if mode == "multi" and outs.get("emotions"):
        probs, cuts = outs["emotions"], outs.get("thresholds") or {}
        return tuple(c for c in classes if probs.get(c, 0.0) >= cuts.get(c, 0.5))
    if mode == "distribution" and outs.get("distribution"):
        dist = outs["distribution"]
        return max(dist, key=dist.get)
    return pred.emotion


def _newest_predictions(session: Session, run_id: int) -> dict[int, Prediction]:
    newest = (select(func.max(Prediction.id)).where(Prediction.run_id == run_id)
              .group_by(Prediction.sample_id))
    return {p.sample_id: p for p in session.scalars(select(Prediction).where(Prediction.id.in_(newest)))}


def compare_with_snapshot(session: Session, run_id: int, later: str) -> dict[str, Any]:
    """Compare run `run_id`'s newest prediction per sample with the emotion label of the snapshot
    the run trained on (its config's "snapshot") and with the later snapshot `later`.

    For each sample whose label changed between them: "model was right" (it predicted the later
    label), "model followed the old label" or "neither". Also the accuracy against either snapshot
    over the samples with a prediction and a label in both. Emotion field of the dataset's mode
    (single: the class; multi-label: the whole set; distribution: the dominant class).
    """
    run = session.get(Run, run_id)
    if run is None:
        raise LookupError(f"run {run_id} does not exist")
    trained = (run.config or {}).get("snapshot")
    if not trained or run.dataset_id is None:
        raise LookupError(f"run {run_id} records no snapshot (runs made before snapshots existed)")
    ds = session.get(Dataset, run.dataset_id)
    schema = dataset_schema(ds)
    mode = schema.emotion_mode
    old = {r["sample_id"]: _emotion_value(r, mode) for r in snapshot_labels(session, get_snapshot(session, ds.name, trained))}
    new = {r["sample_id"]: _emotion_value(r, mode) for r in snapshot_labels(session, get_snapshot(session, ds.name, later))}
    preds = _newest_predictions(session, run_id)
    changed: list[Changed] = []
    right_old = right_new = both = 0
    for sid in sorted(set(old) & set(new) & set(preds)):
        before, after = old[sid], new[sid]
        if before is None or after is None:
            continue
        guess = _predicted(preds[sid], mode, schema.classes)
        both += 1
        right_old += guess == before
        right_new += guess == after
        if before != after:
            verdict = VERDICTS[0] if guess == after else VERDICTS[1] if guess == before else VERDICTS[2]
            changed.append(Changed(sid, before, after, guess, verdict))
    counts = {v: sum(c.verdict == v for c in changed) for v in VERDICTS}
    return {"run": run_id, "dataset": ds.name, "trained_on": trained, "later": later, "mode": mode,
            "compared": both, "accuracy_trained_on": right_old / both if both else None,
            "accuracy_later": right_new / both if both else None, "changed": len(changed), "verdicts": counts,
            "samples": [asdict(c) for c in changed]}


def later_snapshots(session: Session, run_id: int) -> tuple[str | None, list[str]]:
    """The snapshot run `run_id` trained on (None for older runs) and the dataset's snapshots
    taken after it, newest first: what `compare_with_snapshot` can compare against."""
    run = session.get(Run, run_id)
    trained = (run.config or {}).get("snapshot") if run is not None else None
    if not trained or run.dataset_id is None:
        return None, []
    ds = session.get(Dataset, run.dataset_id)
    try:
        first = get_snapshot(session, ds.name, trained)
    except LookupError:
        return None, []
    names = session.scalars(select(Snapshot.name).where(Snapshot.dataset_id == ds.id, Snapshot.id > first.id)
                            .order_by(Snapshot.id.desc())).all()
    return trained, list(names)
