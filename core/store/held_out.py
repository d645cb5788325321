"""Held-out predictions and their cleanlab label quality: the single-label "likely wrong" source.

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

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from core.store.models import Dataset, Prediction, Sample
from core.store.queue_inputs import newest_predictions, prob_row
from core.taxonomy import concept

SURE = 0.5  # a label the model gives at least this probability, and predicts, is not queued


@dataclass
class LabelQuality:
    """Labelled samples with an out-of-sample prediction, aligned arrays, worst label first."""
    ids: np.ndarray  # (N,) sample ids
    labels: np.ndarray  # (N,) class codes of the current emotion
    pred_probs: np.ndarray  # (N, K) over the dataset's classes, rows sum to 1
    scores: np.ndarray  # (N,) cleanlab label quality in [0, 1]; low = likely wrong


Row = tuple[int, str, dict[str, float], frozenset[str], str]  # id, label, probs, model's classes, version


def out_of_sample_predictions(session: Session, dataset_id: int, *, split: str | None = None
                              ) -> list[Row]:
    """(sample id, current emotion, probs, every class that model predicts) of labelled
    samples: each sample's newest out-of-sample prediction (see the module docstring)."""
    newest = newest_predictions(session, dataset_id, (Sample.cur_emotion, Prediction.probs),
                                where=(Sample.cur_emotion.is_not(None),), split=split)
    outputs: dict[str, set[str]] = {}
    for version, _, probs in newest.values():
        outputs.setdefault(version, set()).update(probs or {})
    return [(sid, e, p or {}, frozenset(outputs[v]), v) for sid, (v, e, p) in sorted(newest.items())]


def label_quality(rows: list[Row], classes: list[str]) -> LabelQuality:
    """cleanlab label quality of each row's label under its predicted probabilities.

    Model classes are matched to the dataset's by concept (any spelling); a sample whose label
    the model cannot predict at all is left out (its score would be 0 by construction).
    """
    index = {concept(c): k for k, c in enumerate(classes)}
    ids, labels, probs = [], [], []
    known: dict[frozenset[str], set[str]] = {}  # a model's classes -> their concepts
    for sid, emotion, p, model_classes, _ in rows:
        if model_classes not in known:
            known[model_classes] = {concept(c) for c in model_classes}
        row = prob_row(p, index, len(classes))
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
