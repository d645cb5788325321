"""evaluate_run(): a run's best checkpoint over one split -> metrics, per-sample losses, Prediction rows."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from core.catalog import run_checkpoint
from core.clips.run_config import is_clip_run
from core.config import get_settings
from core.inference.prediction import head_flags, head_outputs, postprocess
from core.label_schema import LabelSchema
from core.metrics_modes import evaluate_heads, kl_rows
from core.model.checkpoint import load_checkpoint
from core.model.config import ModelConfig
from core.model.net import AffectNet
from core.store.datasets import require_dataset
from core.store.db import read_session, write_session
from core.store.models import Run, utcnow
from core.store.predictions import record_predictions
from core.train_config import TrainConfig
from training.data import AffectDataset, SplitRows, load_rows, missing_files
from training.dist import resolve_device
from training.losses import UNCERTAINTY_SCALE
from training.runs import get_run
from training.state import load_state

EPS = 1e-6  # stress probabilities are clamped to [EPS, 1 - EPS] for the BCE, as in training


def task_weights(cfg: TrainConfig, run_dir: Path) -> dict[str, float]:
    """Training's weight of each task: the fixed task_weights or, with uncertainty weighting,
    c * exp(-log_var) from the run's last saved state (fixed weights when it is gone)."""
    weights = {t: float(cfg.task_weights[t]) for t in cfg.tasks}
    state = run_dir / "state.pt"
    if cfg.uncertainty_weighting and state.is_file():
        loss_state = load_state(state).get("loss") or {}
        for t in cfg.tasks:
            s = loss_state.get(f"log_vars.{t}")
            if s is not None:
                weights[t] = UNCERTAINTY_SCALE[t] * math.exp(-float(s))
    return weights


@torch.no_grad()
def predict_rows(model: AffectNet, rows: SplitRows, data_dir: Path, device: torch.device, *,
                 batch_size: int) -> dict[str, np.ndarray]:
    """{"logits": (N, K), "probs": (N, K), "va": (N, 2), "stress": (N,)} for every row, plus
    "dominance" (N,) and each extra target (N,) the model has, with the prior in place of
    untrained V/A or stress heads (exactly what a Predictor reports)."""
    model.eval()
    ds = AffectDataset(rows, data_dir, model.config, augment=None)
    parts: dict[str, list[np.ndarray]] = {}
    for batch in DataLoader(ds, batch_size=batch_size, shuffle=False):
        raw = {k: v.float().cpu().numpy() for k, v in model(batch["x"].to(device)).items()}
        post = postprocess(raw, model.config)
        parts.setdefault("logits", []).append(raw["emotion"])
        for k, v in post.items():
            parts.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in parts.items()}


def sample_losses(out: dict[str, np.ndarray], rows: SplitRows, weights: dict[str, float], *,
                  label_smoothing: float = 0.0, ranges: dict[str, list[float]] | None = None
                  ) -> np.ndarray:
    """Per-sample training objective (NaN where a sample has no label of a trained task):
    sum over tasks of weight * term, with the terms cross-entropy (emotion; mean binary
    cross-entropy over the categories for multi-label, KL for distributions), mean squared
    error over the labelled V/A columns, dominance and named targets (on their ranges scaled to
    [0, 1]; per sample, in place of the batch-level CCC) and binary cross-entropy (stress).
    Class weights are left out so samples stay comparable."""
    n = len(rows)
    total, any_term = np.zeros(n), np.zeros(n, bool)

    def add(task: str, term: np.ndarray, mask: np.ndarray) -> None:
        nonlocal total, any_term
        total = total + np.where(mask, weights[task] * np.nan_to_num(term), 0.0)
        any_term = any_term | mask

    if "emotion" in weights and rows.mode in ("multi", "distribution"):
        add("emotion", *_soft_emotion_term(out, rows))
    elif "emotion" in weights:
        y = torch.from_numpy(rows.emotion)
        mask = (y >= 0).numpy()
        ce = F.cross_entropy(torch.from_numpy(out["logits"]).double(), y.clamp_min(0),
                             label_smoothing=label_smoothing, reduction="none").numpy()
        total += np.where(mask, weights["emotion"] * ce, 0.0)
        any_term |= mask
    if "va" in weights:
        known = np.isfinite(rows.va)
        sq = np.where(known, (out["va"] - np.nan_to_num(rows.va)) ** 2, 0.0)
        count = known.sum(1)
        mask = count > 0
        total += np.where(mask, weights["va"] * sq.sum(1) / np.maximum(count, 1), 0.0)
        any_term |= mask
    if "stress" in weights:
        t = rows.stress.astype(np.float64)
        mask = np.isfinite(t) & (t >= 0)
        p = np.clip(out["stress"], EPS, 1 - EPS)
        t = np.where(mask, t, 0.0)
        bce = -(t * np.log(p) + (1 - t) * np.log1p(-p))
        total += np.where(mask, weights["stress"] * bce, 0.0)
        any_term |= mask
    if "dominance" in weights and rows.dominance is not None and "dominance" in out:
        known = np.isfinite(rows.dominance)
        add("dominance", (out["dominance"] - np.nan_to_num(rows.dominance)) ** 2, known)
    if "targets" in weights and rows.targets is not None and rows.target_names:
        add("targets", *_target_term(out, rows, ranges or {}))
    return np.where(any_term, total, np.nan)


def _soft_emotion_term(out: dict[str, np.ndarray], rows: SplitRows) -> tuple[np.ndarray, np.ndarray]:
    """(per-sample term, labelled) for multi-label (mean BCE over categories) or distribution (KL)."""
    y = rows.emotion_target().astype(np.float64)
    mask = np.isfinite(y).all(axis=1)
    y = np.nan_to_num(y)
    if rows.mode == "distribution":
        mask &= y.sum(axis=1) > 0
        return kl_rows(y, out["probs"]), mask
    p = np.clip(out["probs"], EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p)).mean(axis=1), mask


def _target_term(out: dict[str, np.ndarray], rows: SplitRows, ranges: dict[str, list[float]]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(mean squared error over a sample's labelled named targets on unit-scaled ranges, labelled)."""
    lo = np.array([ranges.get(t, [0.0, 1.0])[0] for t in rows.target_names])
    span = np.array([ranges.get(t, [0.0, 1.0])[1] for t in rows.target_names]) - lo
    pred = np.stack([out[t] for t in rows.target_names], axis=1) if all(
        t in out for t in rows.target_names) else np.full(rows.targets.shape, np.nan)
    known = np.isfinite(rows.targets) & np.isfinite(pred)
    sq = np.where(known, ((pred - np.nan_to_num(rows.targets)) / span) ** 2, 0.0)
    count = known.sum(1)
    return sq.sum(1) / np.maximum(count, 1), count > 0


def prediction_rows(run_id: int, split: str, rows: SplitRows, out: dict[str, np.ndarray],
                    losses: np.ndarray, config: ModelConfig) -> list[dict]:
    """One record_predictions row per sample; "outputs" (predictions.outputs) when the model
    has multi-label, distribution, dominance or named-target heads."""
    classes, flags = list(config.classes), head_flags(config)
    top = out["probs"].argmax(1)
    result = []
    for i, sid in enumerate(rows.ids):
        row = {"sample_id": int(sid), "run_id": run_id, "model_version": f"run-{run_id}",
               "split": split, "probs": {c: float(p) for c, p in zip(classes, out["probs"][i])},
               "emotion": classes[top[i]], "confidence": float(out["probs"][i, top[i]]),
               "valence": float(out["va"][i, 0]), "arousal": float(out["va"][i, 1]),
               "stress": float(out["stress"][i]),
               "loss": float(losses[i]) if np.isfinite(losses[i]) else None, "flags": dict(flags)}
        extra = head_outputs(config, row["probs"], dominance=out["dominance"][i] if "dominance" in out else None,
                             targets={t: out[t][i] for t in config.named_targets})
        if extra is not None:
            row["outputs"] = extra
        result.append(row)
    return result


def store_eval(run_id: int, split: str, summary: dict[str, Any], pred_rows: list[dict]) -> None:
    """Prediction rows and Run.metrics["eval"][split] in one transaction; other keys kept."""
    with write_session() as s, s.begin():
        record_predictions(s, pred_rows)
        run = s.get(Run, run_id)
        metrics = dict(run.metrics or {})
        metrics["eval"] = {**(metrics.get("eval") or {}), split: summary}
        run.metrics = metrics  # a new dict: the JSON column sees the change


def _load_split(run: dict[str, Any], cfg: TrainConfig, split: str, config: ModelConfig) -> SplitRows:
    """The split's rows with the labels of the schema the model was trained on."""
    schema = LabelSchema.from_dict(config.label_schema, classes=list(config.classes))
    with read_session() as s:
        dataset_id = run["dataset_id"] or require_dataset(s, cfg.dataset).id
        rows = load_rows(s, dataset_id, split, list(config.classes), schema=schema)
    if len(rows) == 0:
        raise ValueError(f"run {run['id']}: dataset {cfg.dataset!r} has no samples in split {split!r}")
    missing = missing_files(rows, get_settings().data_dir)
    if missing:
        raise FileNotFoundError(f"crops missing under {get_settings().data_dir}: {', '.join(missing)}")
    return rows


def rows_labelled(rows: SplitRows) -> dict[str, int]:
    """How many samples carry each label (dominance and targets when the rows have them)."""
    y = rows.emotion_target()
    emotion = np.isfinite(y).all(axis=1) if y.ndim == 2 else y >= 0
    out = {"emotion": int(emotion.sum()), "va": int(np.isfinite(rows.va).any(axis=1).sum()),
           "stress": int((np.isfinite(rows.stress) & (rows.stress >= 0)).sum())}
    if rows.dominance is not None:
        out["dominance"] = int(np.isfinite(rows.dominance).sum())
    if rows.targets is not None:
        out["targets"] = int(np.isfinite(rows.targets).any(axis=1).sum())
    return out


def evaluate_rows(rows: SplitRows, out: dict[str, np.ndarray], config: ModelConfig) -> dict[str, Any]:
    """core.metrics_modes.evaluate_heads of predict_rows' outputs against the rows' labels
    (multi-label at the thresholds the checkpoint carries)."""
    named = [t for t in config.named_targets if t in rows.target_names]
    cols = [rows.target_names.index(t) for t in named]
    return evaluate_heads(
        mode=config.emotion_mode, classes=list(config.classes), emotion_true=rows.emotion_target(),
        emotion_pred=out["probs"], va_true=rows.va, va_pred=out["va"], stress_true=rows.stress,
        stress_pred=out["stress"], dominance_true=rows.dominance, dominance_pred=out.get("dominance"),
        targets_true=rows.targets[:, cols] if named else None,
        targets_pred=np.stack([out[t] for t in named], axis=1) if named else None,
        target_ranges={t: config.target_ranges[t] for t in named},
        thresholds=config.class_thresholds())


def evaluate_run(run_id: int, *, split: str = "test", store: bool = True, batch_size: int = 64,
                 device: str = "auto") -> dict[str, Any]:
    """Evaluate a run's best checkpoint on every sample of a split of its dataset.

    Returns core.metrics_modes.evaluate_heads (on what the model reports: the prior stands in
    for untrained heads; each mode's metrics and the named combined score) plus run_id, split, checkpoint, n, labelled counts, stored and
    sample_loss_mean. With store, one Prediction per sample (model_version "run-<id>", its
    per-sample loss, head flags) and the summary under Run.metrics["eval"][split].
    A clip run is refused: training.clip_eval.evaluate_clip_run evaluates it.
    """
    run = get_run(run_id)
    if is_clip_run(run["config"]):
        raise ValueError(f"run {run_id} is a clip run: training.clip_eval.evaluate_clip_run evaluates it "
                         "(`affectlab evaluate --run N` picks it)")
    cfg = TrainConfig.from_dict(run["config"] or {})
    checkpoint = run_checkpoint(run_id)
    dev = resolve_device(device)
    model, mconfig, meta = load_checkpoint(checkpoint, map_location=dev)
    rows = _load_split(run, cfg, split, mconfig)
    out = predict_rows(model, rows, get_settings().data_dir, dev, batch_size=batch_size)
    losses = sample_losses(out, rows, task_weights(cfg, checkpoint.parent),
                           label_smoothing=cfg.label_smoothing, ranges=mconfig.target_ranges)
    metrics = evaluate_rows(rows, out, mconfig)
    finite = losses[np.isfinite(losses)]
    summary = {**metrics, "run_id": run_id, "split": split, "checkpoint": str(checkpoint),
               "epoch": (meta.get("extra") or {}).get("epoch"), "n": len(rows),
               "labelled": rows_labelled(rows),
               "sample_loss_mean": float(finite.mean()) if finite.size else None,
               "flags": head_flags(mconfig), "evaluated_at": utcnow().isoformat(timespec="seconds")}
    stored = 0
    if store:
        pred_rows = prediction_rows(run_id, split, rows, out, losses, mconfig)
        store_eval(run_id, split, summary, pred_rows)
        stored = len(pred_rows)
    return {**summary, "stored": stored}
