"""Evaluation of a clip run over its dataset's stored clips, per modality (visual only / audio only /
fused for audio-visual models): metrics on the held-out clips and one Prediction row per clip
(every clip: split "train" or "held-out", the run's own partition) whose outputs carry each
modality's prediction and per-clip loss, so Review can order clips by any modality's loss."""
from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from core.clips.predict import clip_predictions
from core.clips.sample_loss import clip_sample_losses, prediction_arrays
from core.clips.store_predict import clip_outputs
from core.inference.prediction import FacePrediction
from core.model.clip_config import MODALITIES
from training.clip_data import StoreClips

HELD_OUT, TRAINED_ON = "held-out", "train"  # predictions.split of a clip run's two partitions
HOLDOUT_EVERY = 4  # without val/test splits, every 4th subject (or clip) is held out


def holdout(subjects: list[str | None], splits: list[str | None]) -> np.ndarray:
    """(M,) bool: the clips to evaluate on. Their val/test split when any clip has one, else
    every HOLDOUT_EVERY-th subject (grouped: no person on both sides), else every HOLDOUT_EVERY-th clip."""
    splits_held = np.array([s in ("val", "test") for s in splits])
    if splits_held.any() and not splits_held.all():
        return splits_held
    names = sorted({s for s in subjects if s})
    if len(names) >= 2:
        held = set(names[HOLDOUT_EVERY - 1::HOLDOUT_EVERY] or names[-1:])
        return np.array([s in held for s in subjects])
    return np.arange(len(subjects)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1


def model_modalities(model: nn.Module) -> tuple[str, ...]:
    """The modalities evaluate_modalities reports for this model: all three for audio-visual
    fusion, "fused" (the model as it is) otherwise."""
    config = model.config
    return MODALITIES if config.has_audio and config.kind != "audio" else ("fused",)


def modality_outputs(model: nn.Module, data: StoreClips) -> dict[str, dict[str, np.ndarray]]:
    """{modality: raw head outputs for every clip} (the model left in its fused mode)."""
    from training.clip_train import predict_clips

    names = model_modalities(model)
    if names == ("fused",):
        return {"fused": predict_clips(model, data.data)}
    out = {}
    try:
        for modality in names:
            model.set_modality(modality)
            out[modality] = predict_clips(model, data.data)
    finally:
        model.set_modality("fused")
    return out


def _modality_entry(pred: FacePrediction, loss: float) -> dict[str, Any]:
    return {"probs": dict(pred.probs), "emotion": pred.emotion, "confidence": pred.confidence,
            "valence": pred.valence, "arousal": pred.arousal, "stress": pred.stress,
            **({"dominance": pred.dominance} if pred.dominance is not None else {}),
            **({"targets": dict(pred.targets)} if pred.targets else {}),
            "loss": float(loss) if np.isfinite(loss) else None}


def clip_prediction_rows(run_id: int, model: nn.Module, data: StoreClips, held: np.ndarray
                         ) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    """(record_predictions rows, {modality: metrics on the held-out clips}). A row's columns are the
    fused (or only) modality's; outputs["modalities"][m] holds each modality's prediction and loss."""
    from training.clip_metrics import task_metrics

    config = model.config
    schema, tasks = config.label_schema, list(config.tasks)
    raw = modality_outputs(model, data)
    idx = np.flatnonzero(held)
    preds, losses, metrics = {}, {}, {}
    for modality, out in raw.items():
        preds[modality] = clip_predictions(out, config)
        losses[modality] = clip_sample_losses(prediction_arrays(preds[modality], schema), data.data.targets,
                                              schema, tasks)
        metrics[modality] = task_metrics({k: v[idx] for k, v in out.items()},
                                         {k: v[idx] for k, v in data.data.targets.items()}, schema, tasks)
    main = "fused" if "fused" in raw else next(iter(raw))
    rows = []
    for i, sid in enumerate(data.sample_ids):
        p = preds[main][i]
        rows.append({"sample_id": int(sid), "run_id": run_id, "model_version": f"run-{run_id}",
                     "split": HELD_OUT if held[i] else TRAINED_ON, "probs": dict(p.probs),
                     "emotion": p.emotion, "confidence": p.confidence, "valence": p.valence,
                     "arousal": p.arousal, "stress": p.stress, "flags": dict(p.flags),
                     "loss": float(losses[main][i]) if np.isfinite(losses[main][i]) else None,
                     "outputs": {**(clip_outputs(p, schema) or {}),
                                 "modalities": {m: _modality_entry(preds[m][i], losses[m][i]) for m in raw}}})
    return rows, metrics


def evaluate_stored_clips(run_id: int, model: nn.Module, data: StoreClips, held: np.ndarray, *,
                          store: bool = True) -> dict[str, Any]:
    """Per-modality metrics on the held-out clips, the mean loss per modality over every labelled
    clip, counts; with store, the per-clip Prediction rows and the summary on the run."""
    from core.store.models import utcnow
    from training.eval_run import store_eval

    rows, metrics = clip_prediction_rows(run_id, model, data, held)
    means = {}
    for m in metrics:
        vals = [r["outputs"]["modalities"][m]["loss"] for r in rows if r["split"] == HELD_OUT]
        known = [v for v in vals if v is not None]
        means[m] = float(np.mean(known)) if known else None
    summary = {"run_id": run_id, "split": HELD_OUT, "n": len(rows), "held_out": int(held.sum()),
               "modalities": metrics, "sample_loss_mean": means,
               "evaluated_at": utcnow().isoformat(timespec="seconds")}
    if store:  # the rows and Run.metrics["eval"]["held-out"] = summary, as evaluate_run stores its split
        store_eval(run_id, HELD_OUT, summary, rows)
    return {**summary, "stored": len(rows) if store else 0}


def evaluate_clip_run(run_id: int, *, store: bool = True, device: str = "auto") -> dict[str, Any]:
    """Evaluate a finished clip run's checkpoint over every clip of its dataset (the current labels;
    held out as the run held out: training.clip_run.holdout), per modality; see evaluate_stored_clips."""
    from core.model.clip_checkpoint import load_clip_model
    from training.clip_data import store_clip_data
    from training.dist import resolve_device
    from training.runs import get_run

    run = get_run(run_id)
    if not run["checkpoint_path"]:
        raise ValueError(f"clip run {run_id} has no checkpoint (status {run['status']})")
    model, config, _ = load_clip_model(run["checkpoint_path"], map_location=resolve_device(device))
    data = store_clip_data(run["config"]["dataset"], model=config.embedder or None, tasks=config.tasks,
                           audio=config.has_audio, frames=config.frames)
    return evaluate_stored_clips(run_id, model, data, holdout(data.subjects, data.splits), store=store)
