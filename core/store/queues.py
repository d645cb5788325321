"""Work queues for relabelling: unlabelled, likely wrong (cleanlab label quality), random, in order.

"likely wrong" ranks current emotion labels by cleanlab's label quality score
(`cleanlab.rank.get_label_quality_scores`, self-confidence: the probability the model gives
the label) computed from stored OUT-OF-SAMPLE predictions only:
- predictions of a model that never trained on this dataset (run_id NULL: the pretrained
  default's prelabel, an external model file), and
- predictions a run stored for a split it did not train on (`evaluate --split val|test`).
A run's predictions on its own training split (or of a run that trained on every sample) are
in-sample: the model has fitted those labels, wrong ones included, so its confidence in them
says little and would hide exactly the errors this queue is for; they are left out.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.models import Dataset, Prediction, Run, Sample
from core.taxonomy import concept

MODES = ("unlabelled", "likely wrong", "random", "in order")
SURE = 0.5  # a label the model gives at least this probability, and predicts, is not queued


@dataclass
class LabelQuality:
    """Labelled samples with an out-of-sample prediction, aligned arrays, worst label first."""
    ids: np.ndarray  # (N,) sample ids
    labels: np.ndarray  # (N,) class codes of the current emotion
    pred_probs: np.ndarray  # (N, K) over the dataset's classes, rows sum to 1
    scores: np.ndarray  # (N,) cleanlab label quality in [0, 1]; low = likely wrong


def _in_sample_split(config: dict | None) -> str | None:
    """The split a run trained on ("*" when it trained on every sample)."""
    split = (config or {}).get("train_split", "train")
    return "*" if split is None else split


Row = tuple[int, str, dict[str, float], frozenset[str]]  # id, label, probs, the model's classes


def out_of_sample_predictions(session: Session, dataset_id: int, *, split: str | None = None
                              ) -> list[Row]:
    """(sample id, current emotion, probs, every class that model predicts) of labelled
    samples: each sample's newest out-of-sample prediction (see the module docstring)."""
    trained_on = {rid: _in_sample_split(cfg) for rid, cfg in session.execute(select(Run.id, Run.config))}
    stmt = (select(Prediction.sample_id, Prediction.run_id, Prediction.split,
                   Prediction.model_version, Sample.cur_emotion, Prediction.probs)
            .join(Sample, Sample.id == Prediction.sample_id)
            .where(Sample.dataset_id == dataset_id, Sample.cur_emotion.is_not(None))
            .order_by(Prediction.id))
    if split:
        stmt = stmt.where(Sample.split == split)
    newest: dict[int, tuple[int, str, dict[str, float], str]] = {}
    outputs: dict[str, set[str]] = {}
    for sid, run_id, pred_split, version, emotion, probs in session.execute(stmt):
        if run_id is not None and trained_on.get(run_id) in ("*", pred_split):
            continue  # in-sample: the run fitted this label
        newest[sid] = (sid, emotion, probs or {}, version)
        outputs.setdefault(version, set()).update(probs or {})
    return [(sid, e, p, frozenset(outputs[v])) for sid, e, p, v in sorted(newest.values())]


def label_quality(rows: list[Row], classes: list[str]) -> LabelQuality:
    """cleanlab label quality of each row's label under its predicted probabilities.

    Model classes are matched to the dataset's by concept (any spelling); a sample whose label
    the model cannot predict at all is left out (its score would be 0 by construction).
    """
    index = {concept(c): k for k, c in enumerate(classes)}
    ids, labels, probs = [], [], []
    known: dict[frozenset[str], set[str]] = {}  # a model's classes -> their concepts
    for sid, emotion, p, model_classes in rows:
        if model_classes not in known:
            known[model_classes] = {concept(c) for c in model_classes}
        row = np.zeros(len(classes))
        for c, v in p.items():
            if (k := index.get(concept(c))) is not None and v is not None:
                row[k] += float(v)
        label = index.get(concept(emotion))
        if label is None or row.sum() <= 0 or concept(emotion) not in known[model_classes]:
            continue
        ids.append(sid)
        labels.append(label)
        probs.append(row / row.sum())
    if not ids:
        empty = np.zeros(0)
        return LabelQuality(empty.astype(int), empty.astype(int), np.zeros((0, len(classes))), empty)
    from cleanlab.rank import get_label_quality_scores  # loads scikit-learn: only this queue pays

    pred_probs = np.vstack(probs)
    scores = get_label_quality_scores(np.array(labels), pred_probs, method="self_confidence")
    conf = pred_probs.max(1)
    order = np.lexsort((np.array(ids), -conf, scores))  # worst label, then most confident model
    return LabelQuality(np.array(ids)[order], np.array(labels)[order], pred_probs[order],
                        np.asarray(scores)[order])


def likely_wrong(session: Session, dataset_id: int, *, limit: int = 200, split: str | None = None
                 ) -> list[int]:
    """Sample ids whose label is likely wrong, worst first: lowest cleanlab label quality from
    out-of-sample predictions; labels the model predicts with at least SURE are left out."""
    classes = session.get(Dataset, dataset_id).taxonomy["classes"]
    q = label_quality(out_of_sample_predictions(session, dataset_id, split=split), classes)
    doubtful = (q.scores < SURE) | (q.pred_probs.argmax(1) != q.labels)
    return [int(i) for i in q.ids[doubtful][:limit]]


def relabel_queue(session: Session, dataset_id: int, mode: str, *, limit: int = 200,
                  seed: int | None = None, split: str | None = None) -> list[int]:
    """Sample ids to review next, best first (see likely_wrong for "likely wrong")."""
    base = select(Sample.id).where(Sample.dataset_id == dataset_id)
    if split:
        base = base.where(Sample.split == split)
    if mode == "unlabelled":
        stmt = base.where(Sample.cur_emotion.is_(None)).order_by(Sample.id)
    elif mode == "likely wrong":
        return likely_wrong(session, dataset_id, limit=limit, split=split)
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
