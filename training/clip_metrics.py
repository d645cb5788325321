"""Per-task metrics of clip-model outputs on labelled clips (unlabelled ones skipped per task)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.label_schema import LabelSchema
from core.metrics import accuracy, ccc


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def emotion_metrics(logits: np.ndarray, y: np.ndarray, mode: str) -> dict[str, float]:
    """single: accuracy; distribution: KL(target || predicted) and top-1 agreement; multi: micro F1
    at 0.5 and exact-set accuracy."""
    if mode == "single":
        keep = y >= 0
        return {"emotion_accuracy": accuracy(y[keep], logits[keep].argmax(1))} if keep.any() else {}
    keep = np.isfinite(y).all(axis=1)
    if not keep.any():
        return {}
    y, z = y[keep], logits[keep]
    if mode == "distribution":
        q = _softmax(z)
        kl = np.sum(np.where(y > 0, y * (np.log(np.clip(y, 1e-12, None)) - np.log(q + 1e-12)), 0.0), axis=1)
        return {"emotion_kl": float(kl.mean()), "emotion_top1": float((q.argmax(1) == y.argmax(1)).mean())}
    pred, truth = z > 0, y >= 0.5
    tp = float((pred & truth).sum())
    f1 = 2 * tp / max(float(pred.sum() + truth.sum()), 1.0)
    return {"emotion_f1_micro": f1, "emotion_exact": float((pred == truth).all(axis=1).mean())}


def _ccc_cols(pred: np.ndarray, y: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    out = {}
    for j, name in enumerate(names):
        keep = np.isfinite(y[:, j])
        if keep.sum() >= 2:
            out[f"{name}_ccc"] = float(ccc(y[keep, j], pred[keep, j]))
    return out


def task_metrics(outputs: dict[str, np.ndarray], targets: dict[str, np.ndarray], schema: LabelSchema,
                 tasks: Sequence[str]) -> dict[str, float]:
    """Flat {metric: value} over the tasks that have targets."""
    out: dict[str, float] = {}
    for task in tasks:
        if task not in targets:
            continue
        pred, y = outputs[task], targets[task]
        if task == "emotion":
            out |= emotion_metrics(pred, y, schema.emotion_mode)
        elif task == "va":
            out |= _ccc_cols(pred, y, ("valence", "arousal"))
        elif task == "dominance":
            out |= _ccc_cols(pred, y, ("dominance",))
        elif task == "stress":
            keep = np.isfinite(y[:, 0])
            if keep.any():
                out["stress_mae"] = float(np.abs(pred[keep, 0] - y[keep, 0]).mean())
        else:
            keep = np.isfinite(y)
            if keep.any():
                out["targets_mse"] = float(((pred - np.nan_to_num(y)) ** 2)[keep].mean())
                out["targets_mae"] = float(np.abs(pred - np.nan_to_num(y))[keep].mean())
                out |= _ccc_cols(pred, y, [t.name for t in schema.targets])
    return out
